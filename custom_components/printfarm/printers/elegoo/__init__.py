"""Elegoo SDCP v3 (Centauri Carbon and SDCP v3 resin printers): client, discovery, parser."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import DiscoveredPrinter
from .const import DEFAULT_PORT, DEFAULT_VIDEO_PORT, SPEED_PRESETS
from .control import ElegooClient
from .descriptor import DESCRIPTOR
from .discovery import discover

if TYPE_CHECKING:
    import aiohttp

    from ..models import ConnectionOptions

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_VIDEO_PORT",
    "DESCRIPTOR",
    "SPEED_PRESETS",
    "DiscoveredPrinter",
    "ElegooClient",
    "create",
    "discover",
]


def create(options: ConnectionOptions, session: aiohttp.ClientSession) -> ElegooClient:
    """Build an unconnected client from ``options`` (``serial`` is the MainboardID).

    ``camera_port`` is the MJPEG port, 3031 by default.
    """
    return ElegooClient(
        options.host,
        port=options.port or DEFAULT_PORT,
        video_port=options.camera_port or DEFAULT_VIDEO_PORT,
        mainboard_id=options.serial,
        session=session,
        keepalive_interval=options.poll_interval,
        stale_after=options.stale_after,
    )
