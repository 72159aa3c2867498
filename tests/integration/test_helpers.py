"""Client errors become translated Home Assistant errors, each with a message to show."""

from __future__ import annotations

import json
from pathlib import Path
import string

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.helpers import COMMAND_REASONS, translate_error
from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
    PrinterProtocolError,
)

STRINGS = Path(__file__).parents[2] / "custom_components" / DOMAIN / "strings.json"


@pytest.mark.parametrize(
    ("error", "kind", "key"),
    [
        (PrinterNotSupportedError("no light"), ServiceValidationError, "unsupported"),
        (PrinterAuthError("refused"), HomeAssistantError, "invalid_auth"),
        (PrinterConnectionError("gone"), HomeAssistantError, "printer_offline"),
        (PrinterProtocolError("garbage"), HomeAssistantError, "communication_error"),
        (PrinterError("something"), HomeAssistantError, "communication_error"),
        # The user's mistakes are validation errors ...
        (PrinterCommandError("idle", reason="not_printing"), ServiceValidationError, None),
        (PrinterCommandError("printing", reason="not_paused"), ServiceValidationError, None),
        (PrinterCommandError("too hot", reason="invalid_value"), ServiceValidationError, None),
        # ... the printer's refusals are not.
        (PrinterCommandError("locked", reason="control_unavailable"), HomeAssistantError, None),
        (PrinterCommandError("moved on", reason="job_changed"), HomeAssistantError, None),
        (PrinterCommandError("silent", reason="not_confirmed"), HomeAssistantError, None),
        (PrinterCommandError("no", reason="rejected"), HomeAssistantError, None),
        # A reason without its own message falls back to "rejected".
        (
            PrinterCommandError("odd", reason="brand_new_reason"),
            HomeAssistantError,
            "command_rejected",
        ),
    ],
)
def test_translate_error(
    error: PrinterError, kind: type[HomeAssistantError], key: str | None
) -> None:
    translated = translate_error(error)
    assert type(translated) is kind
    assert translated.translation_domain == DOMAIN
    if key is None:
        assert isinstance(error, PrinterCommandError)
        key = f"command_{error.reason}"
    assert translated.translation_key == key

    # The message exists and every placeholder it uses is filled.
    message = json.loads(STRINGS.read_text())["exceptions"][key]["message"]
    used = {name for _, name, _, _ in string.Formatter().parse(message) if name}
    placeholders = translated.translation_placeholders or {}
    assert used <= set(placeholders)
    if "error" in used:
        assert placeholders["error"] == str(error)


def test_every_command_reason_has_a_message() -> None:
    exceptions = json.loads(STRINGS.read_text())["exceptions"]
    assert {f"command_{reason}" for reason in COMMAND_REASONS} <= set(exceptions)
