"""Turn client errors into translated Home Assistant errors for actions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Concatenate

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .entity import PrintfarmEntity
from .printers import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
)

#: PrinterCommandError reasons with their own translated message.
COMMAND_REASONS = frozenset(
    {
        "control_unavailable",
        "invalid_value",
        "job_changed",
        "not_confirmed",
        "not_paused",
        "not_printing",
        "rejected",
    }
)
#: Reasons that are the user's mistake, not the printer's.
VALIDATION_REASONS = frozenset({"invalid_value", "not_printing", "not_paused"})


def translate_error(err: PrinterError) -> HomeAssistantError:
    """The Home Assistant error (with translation key) for a client error."""
    if isinstance(err, PrinterNotSupportedError):
        return ServiceValidationError(
            translation_domain=DOMAIN, translation_key="unsupported", translation_placeholders={}
        )
    if isinstance(err, PrinterCommandError):
        cls = ServiceValidationError if err.reason in VALIDATION_REASONS else HomeAssistantError
        reason = err.reason if err.reason in COMMAND_REASONS else "rejected"
        return cls(
            translation_domain=DOMAIN,
            translation_key=f"command_{reason}",
            translation_placeholders={"error": str(err)},
        )
    if isinstance(err, PrinterAuthError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="invalid_auth")
    if isinstance(err, PrinterConnectionError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="printer_offline",
            translation_placeholders={"error": str(err)},
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="communication_error",
        translation_placeholders={"error": str(err)},
    )


def printer_action[_E: PrintfarmEntity, **_P](
    func: Callable[Concatenate[_E, _P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[_E, _P], Coroutine[Any, Any, None]]:
    """Run an entity action, refusing while offline and translating client errors."""

    async def handler(self: _E, *args: _P.args, **kwargs: _P.kwargs) -> None:
        if not self.coordinator.data.connected:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="printer_offline",
                translation_placeholders={"error": self.coordinator.client.host},
            )
        try:
            await func(self, *args, **kwargs)
        except PrinterError as err:
            raise translate_error(err) from err

    return handler
