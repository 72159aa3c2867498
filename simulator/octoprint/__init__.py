"""A simulated OctoPrint 1.11 server with a virtual printer behind it."""

from __future__ import annotations

from .payloads import MAXTEMP
from .server import OctoPrintSimulator

__all__ = ["MAXTEMP", "OctoPrintSimulator"]
