"""Simulated Moonraker + Klippy printer."""

from __future__ import annotations

from .server import MoonrakerSimulator

__all__ = ["MoonrakerSimulator"]
