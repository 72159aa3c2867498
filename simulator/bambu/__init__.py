"""Simulated Bambu Lab printers (mosquitto TLS broker + in-process printer)."""

from __future__ import annotations

from .broker import MosquittoMissingError
from .printer import BambuSimulator

__all__ = ["BambuSimulator", "MosquittoMissingError"]
