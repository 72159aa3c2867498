"""Bambu Lab printers over the LAN (MQTT over TLS, JPEG camera socket, RTSPS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import ConnectionOptions
from .client import DEFAULT_PORT, BambuClient

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_PORT", "BambuClient", "create"]


def create(options: ConnectionOptions, session: aiohttp.ClientSession | None = None) -> BambuClient:
    """Build a client from ConnectionOptions (Bambu needs no HTTP session).

    ``options.extra`` may hold ``ca_file`` (an extra trusted CA, e.g. the
    simulator's), ``name`` and ``watchdog_s``.
    """
    extra = options.extra
    watchdog = extra.get("watchdog_s")
    return BambuClient(
        options.host,
        serial=options.serial or "",
        access_code=options.access_code or "",
        port=options.port or DEFAULT_PORT,
        camera_port=options.camera_port,
        model=options.model,
        ca_file=str(extra["ca_file"]) if extra.get("ca_file") else None,
        name=str(extra["name"]) if extra.get("name") else None,
        watchdog_s=float(watchdog) if watchdog else 60.0,
    )
