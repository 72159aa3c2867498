"""The few typed errors every printfarm protocol client raises, with a closed set of reasons.

The message of an error is for logs and the command line; what a caller acts
on (and what Home Assistant translates) is ``reason``, one of :class:`Reason`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Reason(StrEnum):
    """Why a printer operation failed: the whole vocabulary, nothing else is raised."""

    # reaching the printer
    OFFLINE = "offline"  # unreachable, refused, or the connection dropped
    TIMEOUT = "timeout"  # no answer in time
    STALE = "stale"  # answers arrive, but too late for the state to be current
    CERTIFICATE = "certificate"  # the peer's TLS certificate could not be verified
    NO_FREE_SLOT = "no_free_slot"  # the printer already serves its maximum of clients
    # credentials
    INVALID_AUTH = "invalid_auth"
    PAIRING_DENIED = "pairing_denied"  # the user denied the app key, or it expired
    # what the printer sent
    PROTOCOL = "protocol"  # an answer that is not the printer's protocol
    TOO_LARGE = "too_large"  # a message, body or frame over the size limit
    NOT_OCTOPRINT = "not_octoprint"  # another server answers OctoPrint's API
    FIRMWARE_TOO_OLD = "firmware_too_old"  # PrusaLink without API v1
    # commands
    UNSUPPORTED = "unsupported"  # the printer has no such feature
    INVALID_VALUE = "invalid_value"
    NOT_PRINTING = "not_printing"
    NOT_PAUSED = "not_paused"
    PRINTER_OFFLINE = "printer_offline"  # the server answers, the printer behind it does not
    CONTROL_UNAVAILABLE = "control_unavailable"  # reachable, but refuses control right now
    NOT_CONFIRMED = "not_confirmed"  # sent, but the printer's state never showed it
    JOB_CHANGED = "job_changed"  # the job changed while the command was on its way
    CONFLICT = "conflict"  # not possible in the printer's current state
    BUSY = "busy"
    REJECTED = "rejected"  # refused without a more precise reason
    RATE_LIMITED = "rate_limited"
    FILE_NOT_FOUND = "file_not_found"
    NO_FILE = "no_file"  # no file chosen, or no previous job to print again
    FILE_INVALID = "file_invalid"  # checksum, read, format, resolution or model mismatch
    # camera
    CAMERA_BUSY = "camera_busy"
    CAMERA_UNAVAILABLE = "camera_unavailable"


class PrinterError(Exception):
    """Base of every error raised by a printfarm client."""

    default_reason: ClassVar[Reason] = Reason.PROTOCOL

    def __init__(self, message: str, *, reason: Reason | None = None) -> None:
        """Keep the reason next to the message."""
        super().__init__(message)
        self.reason: Reason = reason or self.default_reason


class PrinterConnectionError(PrinterError):
    """The printer cannot be reached, timed out, or dropped the connection."""

    default_reason = Reason.OFFLINE


class PrinterAuthError(PrinterError):
    """The printer refused the credentials (access code, API key, password)."""

    default_reason = Reason.INVALID_AUTH


class PrinterProtocolError(PrinterError):
    """The printer answered with something that is not its protocol (or too much of it)."""

    default_reason = Reason.PROTOCOL


class PrinterCommandError(PrinterError):
    """The printer rejected a command, or its state never confirmed it."""

    default_reason = Reason.REJECTED


class PrinterNotSupportedError(PrinterCommandError):
    """The printer has no such feature (no light, no G-code, no camera ...)."""

    default_reason = Reason.UNSUPPORTED
