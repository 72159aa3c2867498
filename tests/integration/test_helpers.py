"""Client errors become translated Home Assistant errors: every reason has its message."""

from __future__ import annotations

import json
from pathlib import Path
import string

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.helpers import VALIDATION_REASONS, translate_error
from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
    PrinterProtocolError,
    Reason,
)

COMPONENT = Path(__file__).parents[2] / "custom_components" / DOMAIN
FILES = [COMPONENT / "strings.json", *sorted((COMPONENT / "translations").glob("*.json"))]


def _placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_reason_has_a_message_in_every_language(path: Path) -> None:
    """The closed set of reasons is translated completely, with the printer's name only."""
    exceptions = json.loads(path.read_text(encoding="utf-8"))["exceptions"]
    for reason in Reason:
        message = exceptions[reason.value]["message"]
        assert message.strip(), (path.name, reason)
        assert _placeholders(message) == {"name"}, (path.name, reason)


def test_no_message_carries_text_from_the_client_library() -> None:
    """No exception message has a placeholder a client error's English could fill."""
    for path in FILES:
        for key, value in json.loads(path.read_text(encoding="utf-8"))["exceptions"].items():
            assert "error" not in _placeholders(value["message"]), (path.name, key)


@pytest.mark.parametrize(
    ("error", "kind", "key"),
    [
        (PrinterNotSupportedError("no light"), ServiceValidationError, "unsupported"),
        (PrinterAuthError("refused"), HomeAssistantError, "invalid_auth"),
        (PrinterConnectionError("gone"), HomeAssistantError, "offline"),
        (PrinterConnectionError("slow", reason=Reason.STALE), HomeAssistantError, "stale"),
        (PrinterProtocolError("garbage"), HomeAssistantError, "protocol"),
        (PrinterError("something"), HomeAssistantError, "protocol"),
        # The user's mistakes are validation errors ...
        (PrinterCommandError("idle", reason=Reason.NOT_PRINTING), ServiceValidationError, None),
        (PrinterCommandError("printing", reason=Reason.NOT_PAUSED), ServiceValidationError, None),
        (PrinterCommandError("hot", reason=Reason.INVALID_VALUE), ServiceValidationError, None),
        (PrinterCommandError("none", reason=Reason.NO_FILE), ServiceValidationError, "no_file"),
        # ... the printer's refusals are not.
        (PrinterCommandError("x", reason=Reason.CONTROL_UNAVAILABLE), HomeAssistantError, None),
        (PrinterCommandError("moved on", reason=Reason.JOB_CHANGED), HomeAssistantError, None),
        (PrinterCommandError("silent", reason=Reason.NOT_CONFIRMED), HomeAssistantError, None),
        (PrinterCommandError("no"), HomeAssistantError, "rejected"),
    ],
)
def test_translate_error(
    error: PrinterError, kind: type[HomeAssistantError], key: str | None
) -> None:
    translated = translate_error(error, "Farm 7")
    assert type(translated) is kind
    assert translated.translation_domain == DOMAIN
    assert translated.translation_key == (key or error.reason.value)
    assert translated.translation_placeholders == {"name": "Farm 7"}
    assert str(error) not in (translated.translation_placeholders or {}).values()


def test_validation_reasons_are_the_users_mistakes() -> None:
    assert {
        Reason.INVALID_VALUE,
        Reason.NOT_PRINTING,
        Reason.NOT_PAUSED,
        Reason.UNSUPPORTED,
        Reason.NO_FILE,
    } == VALIDATION_REASONS
