"""OctoPrint: REST client (polling + SockJS push), app keys, flavour detection."""

from __future__ import annotations

import aiohttp

from ..models import ConnectionOptions
from .appkeys import AppKeyRateLimitedError
from .client import DEFAULT_PORT, OctoPrintClient
from .flavour import Flavour, detect_flavour
from .parse import VersionInfo, parse_version
from .status import STATUS_MAP


def create(options: ConnectionOptions, session: aiohttp.ClientSession) -> OctoPrintClient:
    """Build a client from ConnectionOptions.

    Uses ``host``, ``port`` (default 80, or 443 with ``ssl``), ``api_key`` and ``serial`` (a unique
    id to use instead of the discovery UUID). ``extra``: ``ssl`` (bool),
    ``path`` (base path behind a reverse proxy), ``push`` (bool, default on),
    ``poll_interval`` (seconds).
    """
    extra = options.extra or {}
    ssl = _flag(extra.get("ssl"), default=False)
    client = OctoPrintClient(
        options.host,
        api_key=options.api_key,
        port=options.port or (443 if ssl else DEFAULT_PORT),
        session=session,
        ssl=ssl,
        path=str(extra.get("path") or "/"),
        unique_id=options.serial,
        use_push=_flag(extra.get("push"), default=True),
    )
    try:
        interval = float(extra.get("poll_interval", client.poll_interval))
    except (TypeError, ValueError):
        interval = client.poll_interval
    client.poll_interval = max(0.5, interval)
    return client


def _flag(value: object, *, default: bool) -> bool:
    """A boolean option that may arrive as a string from a command line."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


__all__ = [
    "DEFAULT_PORT",
    "STATUS_MAP",
    "AppKeyRateLimitedError",
    "Flavour",
    "OctoPrintClient",
    "VersionInfo",
    "create",
    "detect_flavour",
    "parse_version",
]
