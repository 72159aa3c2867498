"""Turn client errors into translated Home Assistant errors.

Every client error carries one ``Reason`` from a closed set; each reason is
an ``exceptions`` key in strings.json with the printer's name as its only
placeholder, so no English from the client library reaches a message.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Concatenate

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .entity import PrintfarmEntity
from .printers import PrinterError, Reason

#: Reasons that are the user's mistake, not the printer's.
VALIDATION_REASONS = frozenset(
    {
        Reason.INVALID_VALUE,
        Reason.NOT_PRINTING,
        Reason.NOT_PAUSED,
        Reason.UNSUPPORTED,
        Reason.NO_FILE,
    }
)


def translated(reason: Reason, name: str) -> HomeAssistantError:
    """The Home Assistant error (with its translation key) for a reason."""
    cls = ServiceValidationError if reason in VALIDATION_REASONS else HomeAssistantError
    return cls(
        translation_domain=DOMAIN,
        translation_key=reason.value,
        translation_placeholders={"name": name},
    )


def translate_error(err: PrinterError, name: str) -> HomeAssistantError:
    """The translated Home Assistant error for a client error of printer ``name``."""
    return translated(err.reason, name)


def printer_action[_E: PrintfarmEntity, **_P](
    func: Callable[Concatenate[_E, _P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[_E, _P], Coroutine[Any, Any, None]]:
    """Run an entity action, refusing while offline and translating client errors."""

    async def handler(self: _E, *args: _P.args, **kwargs: _P.kwargs) -> None:
        name = self.coordinator.config_entry.title
        if not self.coordinator.data.connected:
            raise translated(Reason.OFFLINE, name)
        try:
            await func(self, *args, **kwargs)
        except PrinterError as err:
            raise translate_error(err, name) from err

    return handler
