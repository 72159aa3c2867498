"""PrusaLink v1 (Prusa MK4/XL/MINI/Core One on Buddy firmware, Prusa-Link on a Pi)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models import ConnectionOptions
from .client import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    PrusaLinkClient,
    PrusaLinkFirmwareTooOldError,
)

if TYPE_CHECKING:
    import aiohttp

    from ..httpx_compat import httpx

__all__ = [
    "DEFAULT_PORT",
    "PrusaLinkClient",
    "PrusaLinkFirmwareTooOldError",
    "create",
]


def _poll_interval(value: Any) -> float:
    try:
        interval = float(value)
    except (TypeError, ValueError):
        return DEFAULT_POLL_INTERVAL
    return interval if interval > 0 else DEFAULT_POLL_INTERVAL


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
    its own. ``options.extra["poll_interval"]`` (seconds) overrides the 5 s
    default.
    """
    return PrusaLinkClient(
        options.host,
        port=options.port or DEFAULT_PORT,
        username=options.username or DEFAULT_USERNAME,
        password=options.password,
        api_key=options.api_key,
        client=httpx_client,
        model=options.model,
        poll_interval=_poll_interval(options.extra.get("poll_interval", DEFAULT_POLL_INTERVAL)),
    )
