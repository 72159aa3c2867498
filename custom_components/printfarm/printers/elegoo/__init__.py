"""Elegoo SDCP v3 (Centauri Carbon and SDCP v3 resin printers): client, discovery, parser."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .client import ElegooClient
from .const import DEFAULT_PORT, DEFAULT_VIDEO_PORT, SPEED_PRESETS
from .discovery import DiscoveredPrinter, discover

if TYPE_CHECKING:
    import aiohttp

    from ..models import ConnectionOptions

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_VIDEO_PORT",
    "SPEED_PRESETS",
    "DiscoveredPrinter",
    "ElegooClient",
    "create",
    "discover",
]


def create(options: ConnectionOptions, session: aiohttp.ClientSession) -> ElegooClient:
    """Build an unconnected client from ``options`` (``serial`` is the MainboardID).

    ``camera_port`` (or ``extra["video_port"]``) is the MJPEG port, 3031 by default.
    """
    extra = options.extra or {}
    video_port = options.camera_port or extra.get("video_port") or DEFAULT_VIDEO_PORT
    mainboard_id = options.serial or extra.get("mainboard_id")
    return ElegooClient(
        options.host,
        port=options.port or DEFAULT_PORT,
        video_port=int(video_port),
        mainboard_id=str(mainboard_id) if mainboard_id else None,
        session=session,
    )
