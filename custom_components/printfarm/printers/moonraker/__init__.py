"""Moonraker (Klipper) protocol client."""

from __future__ import annotations

import aiohttp

from ..models import ConnectionOptions
from .control import MoonrakerClient
from .descriptor import DEFAULT_PORT, DESCRIPTOR

__all__ = ["DEFAULT_PORT", "DESCRIPTOR", "MoonrakerClient", "create"]


def create(options: ConnectionOptions, session: aiohttp.ClientSession) -> MoonrakerClient:
    """Build a client from connection options (port 7125 unless given)."""
    return MoonrakerClient(
        options.host,
        options.port or DEFAULT_PORT,
        api_key=options.api_key,
        session=session,
        model=options.model,
        poll_interval=options.poll_interval,
        stale_after=options.stale_after,
    )
