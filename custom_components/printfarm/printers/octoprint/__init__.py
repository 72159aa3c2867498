"""OctoPrint: REST client (polling + SockJS push), app keys, flavour detection."""

from __future__ import annotations

import aiohttp

from ..models import ConnectionOptions
from .appkeys import AppKeyRateLimitedError
from .control import OctoPrintClient, conflict_reason
from .descriptor import DEFAULT_PORT, DESCRIPTOR
from .flavour import Flavour, detect_flavour
from .parse import VersionInfo, parse_version
from .status import STATUS_MAP


def create(options: ConnectionOptions, session: aiohttp.ClientSession) -> OctoPrintClient:
    """Build a client from ConnectionOptions.

    Uses ``host``, ``port`` (default 80, or 443 with ``ssl``), ``api_key``,
    ``serial`` (a unique id to use instead of the discovery UUID), ``ssl``,
    ``path`` (base path behind a reverse proxy), ``push`` and ``poll_interval``.
    """
    return OctoPrintClient(
        options.host,
        api_key=options.api_key,
        port=options.port or (443 if options.ssl else DEFAULT_PORT),
        session=session,
        ssl=options.ssl,
        path=options.path or "/",
        unique_id=options.serial,
        use_push=options.push,
        poll_interval=max(0.5, options.poll_interval) if options.poll_interval else None,
        stale_after=options.stale_after,
    )


__all__ = [
    "DEFAULT_PORT",
    "DESCRIPTOR",
    "STATUS_MAP",
    "AppKeyRateLimitedError",
    "Flavour",
    "OctoPrintClient",
    "VersionInfo",
    "conflict_reason",
    "create",
    "detect_flavour",
    "parse_version",
]
