"""The simulated printer's SSDP NOTIFY, in the format real Bambu firmware broadcasts.

A real printer sends it every few seconds to ``255.255.255.255:2021``. The
simulator sends it only when asked (``extra["ssdp_port"]``) and only to one
address, 127.0.0.1 unless ``extra["ssdp_host"]`` names another: it never
broadcasts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from .models import SimModel

_LOGGER = logging.getLogger(__name__)

#: ``DevModel.bambu.com`` per simulated model code (what the firmware puts there).
DEV_MODELS: dict[str, str] = {
    "X1C": "3DPrinter-X1-Carbon",
    "X1E": "C13",
    "P1P": "C11",
    "P1S": "C12",
    "A1": "N2S",
    "A1M": "N1",
    "H2D": "O1D",
    "H2S": "O1S",
}


def notify_datagram(
    spec: SimModel,
    *,
    serial: str,
    location: str,
    name: str,
    firmware: str = "01.08.02.00",
    connect: str = "lan",
) -> bytes:
    """One NOTIFY: request line, headers in the firmware's order, CRLF line ends."""
    headers = (
        ("HOST", "255.255.255.255:2021"),
        ("Server", "Buildroot/2018.02-rc3 UPnP/1.0 ssdpd/1.8"),
        ("Location", location),
        ("NT", "urn:bambulab-com:device:3dprinter:1"),
        ("USN", serial),
        ("Cache-Control", "max-age=1800"),
        ("DevModel.bambu.com", DEV_MODELS.get(spec.code, spec.code)),
        ("DevName.bambu.com", name),
        ("DevSignal.bambu.com", "-44"),
        ("DevConnect.bambu.com", connect),
        ("DevBind.bambu.com", "free"),
        ("Devseclink.bambu.com", "secure"),
        ("DevVersion.bambu.com", firmware),
        ("DevCap.bambu.com", "1"),
    )
    lines = ["NOTIFY * HTTP/1.1", *(f"{key}: {value}" for key, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii", errors="replace")


class SsdpAnnouncer:
    """Sends the NOTIFY to (host, port) now and every ``interval`` seconds."""

    def __init__(self, datagram: bytes, host: str, port: int, interval: float) -> None:
        """Nothing is sent until ``start()``."""
        self.datagram = datagram
        self.target = (host, port)
        self.interval = interval
        self.sent = 0
        self._sock: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Open the socket and start the periodic sender."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)  # noqa: FBT003 - the stdlib signature
        self._sock = sock
        self._task = asyncio.create_task(self._loop(), name="bambu sim ssdp")

    def announce(self) -> None:
        """Send one NOTIFY now."""
        if self._sock is None:
            return
        try:
            self._sock.sendto(self.datagram, self.target)
        except OSError as err:  # nobody listening is fine for UDP; a full buffer too
            _LOGGER.debug("SSDP NOTIFY to %s:%s not sent: %s", *self.target, err)
        else:
            self.sent += 1

    async def _loop(self) -> None:
        while True:
            self.announce()
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop sending and close the socket; idempotent."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
