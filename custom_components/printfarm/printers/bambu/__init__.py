"""Bambu Lab printers over the LAN (MQTT over TLS, JPEG camera socket, RTSPS relay)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import ConnectionOptions
from .control import BambuClient
from .descriptor import DEFAULT_PORT, DESCRIPTOR

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_PORT", "DESCRIPTOR", "BambuClient", "create"]


def create(options: ConnectionOptions, session: aiohttp.ClientSession | None = None) -> BambuClient:
    """Build a client from ConnectionOptions (Bambu needs no HTTP session).

    Uses ``serial``, ``access_code``, ``camera_port``, ``model``, ``ca_file``
    (an extra trusted CA, e.g. the simulator's), ``name`` and ``stale_after``.
    """
    return BambuClient(
        options.host,
        serial=options.serial or "",
        access_code=options.access_code or "",
        port=options.port or DEFAULT_PORT,
        camera_port=options.camera_port,
        model=options.model,
        ca_file=options.ca_file,
        name=options.name,
        poll_interval=options.poll_interval,
        stale_after=options.stale_after,
    )
