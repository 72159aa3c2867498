"""Protocol clients for the printers printfarm supports.

This package has no Home Assistant imports: it is asyncio, typed, takes an
injected HTTP session, and is usable from a command line (``scripts/probe``).
Imports inside it are relative so it can also run as a top-level package.
"""

from __future__ import annotations

from .base import PrinterClient
from .exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
    PrinterProtocolError,
)
from .models import (
    ACTIVE_STATUSES,
    AmsTray,
    CameraInfo,
    CameraKind,
    Capabilities,
    ConnectionOptions,
    FanKind,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintStatus,
)

__all__ = [
    "ACTIVE_STATUSES",
    "AmsTray",
    "CameraInfo",
    "CameraKind",
    "Capabilities",
    "ConnectionOptions",
    "FanKind",
    "PrintStatus",
    "PrinterAuthError",
    "PrinterClient",
    "PrinterCommandError",
    "PrinterConnectionError",
    "PrinterError",
    "PrinterInfo",
    "PrinterKind",
    "PrinterNotSupportedError",
    "PrinterNotice",
    "PrinterProtocolError",
    "PrinterState",
]
