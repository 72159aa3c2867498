"""Which printer server answers at an address, asked without credentials.

Zeroconf ``_octoprint._tcp`` is advertised by OctoPrint and by Prusa-Link, and
Moonraker's OctoPrint emulation answers OctoPrint's ``/api/version`` too. An
unauthenticated ``GET /api/version`` tells them apart:

* Prusa-Link (and Buddy firmware) challenge with HTTP Digest;
* Moonraker answers with a version text naming Moonraker or Klipper;
* OctoPrint answers 401/403 asking for an API key, or its version when anonymous
  access is on.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp

from .models import PrinterKind

if TYPE_CHECKING:
    from collections.abc import Mapping


def classify_version_answer(
    status: int, headers: Mapping[str, str], body: Any
) -> PrinterKind | None:
    """The kind of server behind an unauthenticated ``/api/version`` answer."""
    challenge = headers.get("WWW-Authenticate", "")
    if challenge.lower().startswith("digest"):
        return PrinterKind.PRUSALINK
    text = ""
    server = ""
    if isinstance(body, dict):
        text = str(body.get("text") or "").lower()
        server = str(body.get("server") or "").lower()
    if "moonraker" in text or "klipper" in text or "moonraker" in server:
        return PrinterKind.MOONRAKER
    if "prusa" in text or "prusa" in server:
        return PrinterKind.PRUSALINK
    if text.startswith("octoprint") or status in (401, 403):
        return PrinterKind.OCTOPRINT
    return None


async def probe_flavour(
    session: aiohttp.ClientSession, host: str, port: int, *, timeout: float = 10.0
) -> PrinterKind | None:
    """Ask ``http://host:port/api/version`` without credentials; None if unclear."""
    url = f"http://{host}:{port}/api/version"
    try:
        async with asyncio.timeout(timeout), session.get(url) as response:
            body: Any = None
            if response.content_type == "application/json":
                body = await response.json()
            return classify_version_answer(response.status, response.headers, body)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
