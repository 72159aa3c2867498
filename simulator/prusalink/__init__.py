"""Simulated PrusaLink printers: Buddy firmware and Prusa-Link on a Raspberry Pi."""

from __future__ import annotations

from .server import Override, PrusaLinkSimulator

__all__ = ["Override", "PrusaLinkSimulator"]
