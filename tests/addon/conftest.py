"""Fixtures for the add-on's tests: its service runs in the test's event loop."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ROOT / "simulator" / "frames"
