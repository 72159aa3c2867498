"""Telling real OctoPrint apart from servers that imitate its API.

Moonraker's ``octoprint_compat`` component and PrusaLink both answer
``/api/version``; zeroconf ``_octoprint._tcp`` is advertised by PrusaLink
too. Only the version texts tell them apart. ``probe_flavour`` asks without
credentials, for discovery: Prusa-Link then answers with an HTTP Digest
challenge, and OctoPrint asks for its API key.
"""

from __future__ import annotations

from typing import Literal

import aiohttp

from ..coerce import decode_json
from ..exceptions import PrinterError
from ..http import request
from .parse import VersionInfo, parse_version

Flavour = Literal["octoprint", "moonraker", "prusalink", "unknown"]
#: ``/api/version`` is a few hundred bytes; a discovery probe reads no more than this.
_PROBE_LIMIT = 64 * 1024


def detect_flavour(version: VersionInfo) -> Flavour:
    """Say which server answered ``/api/version`` (and ``/api/server``)."""
    text = (version.text or "").lower()
    server = (version.server or "").lower()
    if "moonraker" in text or "moonraker" in server or "klipper" in text:
        return "moonraker"
    if "prusa" in text or "prusa" in server:
        return "prusalink"
    if text.startswith("octoprint"):
        return "octoprint"
    if version.api is not None and version.api.startswith("2.") and not text:
        # PrusaLink speaks API 2.x; OctoPrint has been at "0.1" forever
        return "prusalink"
    return "unknown"


async def probe_flavour(
    session: aiohttp.ClientSession, host: str, port: int, *, timeout: float = 10.0
) -> Flavour:
    """Which server answers ``http://host:port/api/version``, asked without credentials."""
    try:
        reply = await request(
            session,
            "GET",
            f"http://{host}:{port}/api/version",
            timeout=timeout,
            what="discovery probe",
            limit=_PROBE_LIMIT,
        )
        if reply.www_authenticate.lower().startswith("digest"):
            return "prusalink"
        body = (
            decode_json(reply.body, "/api/version")
            if reply.content_type == "application/json"
            else None
        )
    except PrinterError:
        return "unknown"
    flavour = detect_flavour(parse_version(body))
    if flavour == "unknown" and reply.status in (401, 403):
        return "octoprint"  # OctoPrint wants its API key
    return flavour
