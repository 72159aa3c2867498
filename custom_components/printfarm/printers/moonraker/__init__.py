"""Moonraker (Klipper) protocol client."""

from __future__ import annotations

import aiohttp

from ..models import ConnectionOptions
from .client import DEFAULT_PORT, MoonrakerClient

__all__ = ["DEFAULT_PORT", "MoonrakerClient", "create"]


def create(options: ConnectionOptions, session: aiohttp.ClientSession) -> MoonrakerClient:
    """Build a client from connection options (port 7125 unless given)."""
    return MoonrakerClient(
        options.host,
        options.port or DEFAULT_PORT,
        api_key=options.api_key,
        session=session,
        model=options.model,
    )
