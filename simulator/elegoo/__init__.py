"""A simulated Elegoo Centauri Carbon speaking SDCP v3 on loopback."""

from __future__ import annotations

from .server import ElegooSimulator

__all__ = ["ElegooSimulator"]
