"""Bambu Lab's SSDP announcements: parse them, and listen for them on UDP 2021.

Bambu printers answer no M-SEARCH. Every few seconds they send a
``NOTIFY * HTTP/1.1`` datagram to ``255.255.255.255:2021`` (where Bambu
Studio listens) with ``NT: urn:bambulab-com:device:3dprinter:1``,
``Location: <ip>``, ``USN: <serial>`` and vendor headers:
``DevModel.bambu.com`` (a model code such as ``C12`` or
``3DPrinter-X1-Carbon``), ``DevName.bambu.com``, ``DevConnect.bambu.com``
(``lan``/``cloud``), ``DevBind.bambu.com``, ``DevVersion.bambu.com`` ...

Listening is passive: the listener never sends anything. Its socket sets
``SO_REUSEADDR`` (and ``SO_REUSEPORT`` where the platform has it) so it can
share the port with Bambu Studio or another integration on the same host.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import ipaddress
import logging
import re
import socket

from ..models import DiscoveredPrinter, PrinterKind
from .models import MODELS, model_from_serial

_LOGGER = logging.getLogger(__name__)

#: The port Bambu printers broadcast their NOTIFY to (Bambu Studio listens here).
SSDP_PORT = 2021
#: Listen on every interface by default: the NOTIFY is a LAN broadcast.
DEFAULT_LISTEN_HOST = "0.0.0.0"  # noqa: S104 - receiving broadcasts needs the wildcard
#: ``NT`` of a Bambu printer's announcement.
NOTIFY_TYPE = "urn:bambulab-com:device:3dprinter:1"
#: Real announcements are about 500 bytes; anything far larger is not one.
MAX_DATAGRAM_BYTES = 4096

#: ``DevModel.bambu.com`` values -> printfarm's model code (see ``models.MODELS``).
DEV_MODELS: dict[str, str] = {
    "3DPrinter-X1-Carbon": "X1C",
    "BL-P001": "X1C",
    "3DPrinter-X1": "X1",
    "BL-P002": "X1",
    "C13": "X1E",
    "C11": "P1P",
    "C12": "P1S",
    "N7": "P2S",
    "N2S": "A1",
    "N1": "A1M",
    "O1D": "H2D",
    "O1S": "H2S",
    "O1C": "H2C",
}

_SERIAL = re.compile(r"^[A-Za-z0-9]{6,32}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class SsdpAnnouncement:
    """One printer's NOTIFY."""

    host: str  # Location (the printer's own address), else the datagram's source
    serial: str  # USN
    model: str | None = None  # printfarm's model code ("P1S"), when known
    model_name: str | None = None  # marketing name ("P1S", "X1 Carbon"), when known
    dev_model: str | None = None  # DevModel.bambu.com as sent
    name: str | None = None  # DevName.bambu.com
    firmware: str | None = None  # DevVersion.bambu.com
    connect_mode: str | None = None  # DevConnect.bambu.com: "lan" or "cloud"
    bind: str | None = None  # DevBind.bambu.com: "free" or "occupied"

    @property
    def discovered(self) -> DiscoveredPrinter:
        """This announcement in the shape every kind's discovery yields."""
        return DiscoveredPrinter(
            kind=PrinterKind.BAMBU,
            host=self.host,
            unique_id=self.serial,
            name=self.name,
            model=self.model,
            serial=self.serial,
            firmware=self.firmware,
        )


def _headers(text: str) -> dict[str, str] | None:
    """The header block of a NOTIFY as {lower-case name: value}, or None."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[0].strip().upper() != "NOTIFY * HTTP/1.1":
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line.strip():
            break
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.setdefault(name.strip().lower(), value.strip())
    return headers


def _address(value: str | None) -> str | None:
    """An IP address from ``Location`` (bare, or inside a URL), or None."""
    if not value:
        return None
    host = value
    if "//" in host:
        host = host.split("//", 1)[1]
    host = host.split("/", 1)[0].strip()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _text(headers: dict[str, str], name: str) -> str | None:
    value = headers.get(name.lower(), "").strip()
    return value or None


def parse_notify(data: bytes, source_host: str = "") -> SsdpAnnouncement | None:
    """A Bambu NOTIFY datagram -> SsdpAnnouncement; None for anything else."""
    if not data or len(data) > MAX_DATAGRAM_BYTES:
        return None
    headers = _headers(data.decode("utf-8", errors="replace"))
    if headers is None:
        return None
    if (_text(headers, "NT") or "").lower() != NOTIFY_TYPE:
        return None
    serial = _text(headers, "USN")
    if serial is None or not _SERIAL.match(serial):
        return None
    host = _address(_text(headers, "Location")) or _address(source_host)
    if host is None:
        return None
    dev_model = _text(headers, "DevModel.bambu.com")
    code = DEV_MODELS.get(dev_model or "")
    spec = MODELS.get(code) if code else model_from_serial(serial)
    connect = _text(headers, "DevConnect.bambu.com")
    bind = _text(headers, "DevBind.bambu.com")
    return SsdpAnnouncement(
        host=host,
        serial=serial,
        model=spec.code if spec else None,
        model_name=spec.name if spec else None,
        dev_model=dev_model,
        name=_text(headers, "DevName.bambu.com"),
        firmware=_text(headers, "DevVersion.bambu.com"),
        connect_mode=connect.lower() if connect else None,
        bind=bind.lower() if bind else None,
    )


class _SsdpProtocol(asyncio.DatagramProtocol):
    """Hands every Bambu announcement to the callback; drops everything else."""

    def __init__(self, on_announcement: Callable[[DiscoveredPrinter], None]) -> None:
        self._on_announcement = on_announcement
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = addr[0] if addr and isinstance(addr[0], str) else ""
        announcement = parse_notify(data, source)
        if announcement is None:
            return
        try:
            self._on_announcement(announcement.discovered)
        except Exception:
            _LOGGER.exception("Error handling the SSDP announcement of %s", announcement.host)

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("SSDP socket error: %s", exc)


def _bound_socket(host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket on (host, port) that shares the port with others."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            except OSError:
                _LOGGER.debug("SO_REUSEPORT is not supported here")
        sock.setblocking(False)  # noqa: FBT003 - the stdlib signature
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class SsdpListener:
    """Listens for Bambu NOTIFYs on ``host:port`` and calls back once per datagram."""

    def __init__(
        self,
        on_announcement: Callable[[DiscoveredPrinter], None],
        *,
        host: str = DEFAULT_LISTEN_HOST,
        port: int = SSDP_PORT,
    ) -> None:
        """Nothing is bound until ``start()``."""
        self._on_announcement = on_announcement
        self.host = host
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _SsdpProtocol | None = None

    @property
    def listening(self) -> bool:
        """True while the socket is open."""
        return self._transport is not None and not self._transport.is_closing()

    async def start(self) -> None:
        """Bind the socket; OSError when the port cannot be bound."""
        if self.listening:
            return
        sock = _bound_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: _SsdpProtocol(self._on_announcement), sock=sock
            )
        except BaseException:
            sock.close()
            raise
        self._transport, self._protocol = transport, protocol

    async def stop(self) -> None:
        """Close the socket and wait until it is closed; idempotent."""
        transport, protocol = self._transport, self._protocol
        self._transport = self._protocol = None
        if transport is not None:
            transport.close()
        if protocol is not None:
            await protocol.closed
