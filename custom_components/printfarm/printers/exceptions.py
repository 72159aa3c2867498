"""The few typed errors every printfarm protocol client raises."""

from __future__ import annotations


class PrinterError(Exception):
    """Base of every error raised by a printfarm client."""


class PrinterConnectionError(PrinterError):
    """The printer cannot be reached, timed out, or dropped the connection."""


class PrinterAuthError(PrinterError):
    """The printer refused the credentials (access code, API key, password)."""


class PrinterProtocolError(PrinterError):
    """The printer answered with something that is not its protocol.

    ``reason`` says what kind of mismatch, for callers that offer a remedy:
    ``"not_octoprint"`` (another server behind OctoPrint's API),
    ``"firmware_too_old"`` (PrusaLink without API v1), else ``"protocol"``.
    """

    def __init__(self, message: str, *, reason: str = "protocol") -> None:
        """Keep the reason key next to the message."""
        super().__init__(message)
        self.reason = reason


class PrinterCommandError(PrinterError):
    """The printer rejected a command, or its state never confirmed it.

    ``reason`` is a short machine-readable key (for example ``"not_printing"``,
    ``"control_unavailable"``, ``"not_confirmed"``, ``"unsupported"``);
    the message is for humans.
    """

    def __init__(self, message: str, *, reason: str = "rejected") -> None:
        """Keep the reason key next to the message."""
        super().__init__(message)
        self.reason = reason


class PrinterNotSupportedError(PrinterCommandError):
    """The printer has no such feature (no light, no G-code, no camera ...)."""

    def __init__(self, message: str) -> None:
        """Unsupported is always the same reason."""
        super().__init__(message, reason="unsupported")
