"""The httpx module, under whichever name this environment installs it.

Home Assistant 2026.11 replaced httpx with its fork httpx2 and aliases it to
``httpx`` only once Home Assistant itself is imported. The printer layer also
runs without Home Assistant (``scripts/probe``, the simulators' tests), so it
takes httpx where it exists and httpx2 otherwise; both expose the same API.
"""

from __future__ import annotations

try:
    import httpx
except ImportError:  # pragma: no cover - only with HA 2026.11's dependency set
    import httpx2 as httpx  # type: ignore[import-not-found,no-redef]

__all__ = ["httpx"]
