"""PrusaLink v1 (Prusa MK4/XL/MINI/Core One on Buddy firmware, Prusa-Link on a Pi)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import ConnectionOptions
from .client import PrusaLinkFirmwareTooOldError
from .control import PrusaLinkClient
from .descriptor import DEFAULT_PORT, DEFAULT_USERNAME, DESCRIPTOR

if TYPE_CHECKING:
    import aiohttp

    from ..httpx_compat import httpx

__all__ = [
    "DEFAULT_PORT",
    "DESCRIPTOR",
    "PrusaLinkClient",
    "PrusaLinkFirmwareTooOldError",
    "create",
]


def create(
    options: ConnectionOptions,
    session: aiohttp.ClientSession | None = None,
    *,
    httpx_client: httpx.AsyncClient | None = None,
) -> PrusaLinkClient:
    """Build a client from ConnectionOptions.

    ``session`` (aiohttp) is not used: PrusaLink's two digest flavours are
    handled by httpx. ``httpx_client`` (e.g. Home Assistant's shared one) is
    used and never closed; without it the client builds, and later closes,
    its own. ``options.poll_interval`` (seconds) overrides the 5 s default.
    """
    interval = options.poll_interval
    return PrusaLinkClient(
        options.host,
        port=options.port or DEFAULT_PORT,
        username=options.username or DEFAULT_USERNAME,
        password=options.password,
        api_key=options.api_key,
        client=httpx_client,
        model=options.model,
        poll_interval=interval if interval and interval > 0 else None,
        stale_after=options.stale_after,
    )
