"""Telling real OctoPrint apart from servers that imitate its API.

Moonraker's ``octoprint_compat`` component and PrusaLink both answer
``/api/version``; zeroconf ``_octoprint._tcp`` is advertised by PrusaLink
too. Only the version texts tell them apart.
"""

from __future__ import annotations

from typing import Literal

from .parse import VersionInfo

Flavour = Literal["octoprint", "moonraker", "prusalink", "unknown"]


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
