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
    """Build a client from ConnectionOptions (``api_key``; ``extra``: ``ssl``, ``path``)."""
    extra = options.extra or {}
    return OctoPrintClient(
        options.host,
        api_key=options.api_key,
        port=options.port or DEFAULT_PORT,
        session=session,
        ssl=bool(extra.get("ssl", False)),
        path=str(extra.get("path", "/")),
        unique_id=options.serial,
    )


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
