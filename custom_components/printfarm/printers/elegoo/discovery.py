"""UDP discovery of SDCP printers: send ``M99999``, collect the JSON replies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import logging
import socket

from ..models import DiscoveredPrinter, PrinterKind
from .const import DEFAULT_PORT, DISCOVERY_PORT, DISCOVERY_PROBE
from .parse import SdcpParseError, as_dict, loads, parse_attributes

_LOGGER = logging.getLogger(__name__)

#: Replies larger than this are not SDCP discovery answers.
_MAX_REPLY_BYTES = 8192


def parse_reply(data: bytes, source_host: str) -> DiscoveredPrinter | None:
    """A discovery reply datagram -> DiscoveredPrinter, or None when it is not one."""
    if len(data) > _MAX_REPLY_BYTES:
        return None
    try:
        msg = loads(data)
    except SdcpParseError:
        return None
    attrs = parse_attributes(as_dict(msg.get("Data")))
    if not attrs.mainboard_id:
        return None
    return DiscoveredPrinter(
        kind=PrinterKind.ELEGOO,
        host=source_host or attrs.mainboard_ip or "",
        unique_id=attrs.mainboard_id,
        port=DEFAULT_PORT,  # not announced: SDCP v3 always uses 3030
        name=attrs.name,
        model=attrs.machine_name,
        serial=attrs.mainboard_id,
        firmware=attrs.firmware,
        # SDCP v3 speaks websocket; V1 (MQTT) printers need another client
        supported=(attrs.protocol_version or "").upper().startswith("V3"),
    )


class _DiscoveryProtocol(asyncio.DatagramProtocol):
    """Collects replies; ignores anything that is not one."""

    def __init__(
        self, limit: int | None, on_found: Callable[[DiscoveredPrinter], None] | None
    ) -> None:
        self.found: dict[str, DiscoveredPrinter] = {}
        self.enough = asyncio.Event()
        self._limit = limit
        self._on_found = on_found

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        host = addr[0] if addr and isinstance(addr[0], str) else ""
        printer = parse_reply(data, host)
        if printer is None:
            _LOGGER.debug("Ignoring a datagram from %s that is not an SDCP reply", host)
            return
        if printer.unique_id in self.found:
            return
        self.found[printer.unique_id] = printer
        if self._on_found is not None:
            try:
                self._on_found(printer)
            except Exception:
                _LOGGER.exception("Error handling the discovery reply of %s", host)
        if self._limit is not None and len(self.found) >= self._limit:
            self.enough.set()

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("Discovery socket error: %s", exc)


async def discover(
    timeout: float = 3.0,
    *,
    target: str = "255.255.255.255",
    port: int = DISCOVERY_PORT,
    limit: int | None = None,
    on_found: Callable[[DiscoveredPrinter], None] | None = None,
) -> list[DiscoveredPrinter]:
    """Broadcast (or unicast to ``target``) the probe; return the printers that answered.

    Waits ``timeout`` seconds for replies, or less once ``limit`` printers answered.
    ``on_found`` is called as each printer first answers, before the wait ends.
    """
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _DiscoveryProtocol(limit, on_found), family=socket.AF_INET, allow_broadcast=True
    )
    try:
        transport.sendto(DISCOVERY_PROBE, (target, port))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(protocol.enough.wait(), timeout)
    finally:
        transport.close()
    return sorted(protocol.found.values(), key=lambda p: (p.host, p.unique_id))
