"""Client for the printfarm detection add-on's API (no Home Assistant import).

The add-on serves ``/api/v1`` with a bearer API key: its identity (``info``),
every watched printer (``printers``), per-printer settings and feedback, the
latest detection image, and a WebSocket (``stream``) that pushes each change.
Answers are parsed once into typed values; anything malformed is a
``DetectionProtocolError``.
"""

from .client import (
    AddonInfo,
    DetectionAuthError,
    DetectionClient,
    DetectionConnectionError,
    DetectionError,
    DetectionProtocolError,
    LastDetection,
    PrinterDetection,
)

__all__ = [
    "AddonInfo",
    "DetectionAuthError",
    "DetectionClient",
    "DetectionConnectionError",
    "DetectionError",
    "DetectionProtocolError",
    "LastDetection",
    "PrinterDetection",
]
