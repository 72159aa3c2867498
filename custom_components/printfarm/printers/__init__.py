"""Protocol clients for the printers printfarm supports.

This package has no Home Assistant imports: it is asyncio, typed, takes an
injected HTTP session, and is usable from a command line (``scripts/probe``).
Imports inside it are relative so it can also run as a top-level package.
"""

from __future__ import annotations

from .base import PrinterClient
from .descriptor import FieldKind, FormField, KindDescriptor, Limits, Pairing
from .descriptors import DESCRIPTORS, descriptor_for
from .exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
    PrinterProtocolError,
    Reason,
)
from .models import (
    ACTIVE_STATUSES,
    AmsTray,
    CameraInfo,
    CameraKind,
    Capabilities,
    ConnectionOptions,
    DiscoveredPrinter,
    FanKind,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintFile,
    PrintStatus,
    StateUpdate,
)

__all__ = [
    "ACTIVE_STATUSES",
    "DESCRIPTORS",
    "AmsTray",
    "CameraInfo",
    "CameraKind",
    "Capabilities",
    "ConnectionOptions",
    "DiscoveredPrinter",
    "FanKind",
    "FieldKind",
    "FormField",
    "KindDescriptor",
    "Limits",
    "Pairing",
    "PrintFile",
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
    "Reason",
    "StateUpdate",
    "descriptor_for",
]
