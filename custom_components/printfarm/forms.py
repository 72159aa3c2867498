"""The config flow's forms, built from each kind's descriptor (no table of brands here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_API_KEY, CONF_PORT, CONF_URL
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import CONF_ADVANCED, CONF_CAMERA_PORT
from .printers import FieldKind, FormField, PrinterKind, descriptor_for

_SELECTORS: dict[FieldKind, Any] = {
    FieldKind.TEXT: TextSelector(),
    FieldKind.PASSWORD: TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
    FieldKind.PORT: NumberSelector(
        NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
    ),
}
#: Seconds between polls, for kinds that poll (an option).
SECONDS = NumberSelector(
    NumberSelectorConfig(
        min=2, max=300, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
    )
)


#: The detection add-on's address (an add-on installed without the Supervisor).
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
ADDON_SCHEMA = vol.Schema(
    {vol.Required(CONF_URL): _URL, vol.Required(CONF_API_KEY): _SELECTORS[FieldKind.PASSWORD]}
)
ADDON_KEY_SCHEMA = vol.Schema({vol.Required(CONF_API_KEY): _SELECTORS[FieldKind.PASSWORD]})


def addon_address(user_input: Mapping[str, Any]) -> dict[str, str]:
    """The add-on's URL (no trailing slash) and API key from a form, trimmed."""
    return {
        CONF_URL: str(user_input[CONF_URL]).strip().rstrip("/"),
        CONF_API_KEY: str(user_input[CONF_API_KEY]).strip(),
    }


def fields(kind: PrinterKind, *, only_credentials: bool = False) -> tuple[FormField, ...]:
    """The fields of a kind's form (or just its credentials)."""
    return tuple(f for f in descriptor_for(kind).fields if f.credential or not only_credentials)


def _marker(field: FormField) -> vol.Marker:
    if field.required:
        return (
            vol.Required(field.key, default=field.default)
            if field.default
            else vol.Required(field.key)
        )
    return (
        vol.Optional(field.key, default=field.default) if field.default else vol.Optional(field.key)
    )


def form_schema(kind: PrinterKind, *, only_credentials: bool = False) -> vol.Schema:
    """The form for a kind (or just its credentials); advanced fields in a folded section."""
    chosen = fields(kind, only_credentials=only_credentials)
    schema: dict[vol.Marker, Any] = {
        _marker(f): _SELECTORS[f.kind] for f in chosen if not f.advanced
    }
    advanced = {_marker(f): _SELECTORS[f.kind] for f in chosen if f.advanced}
    if advanced:
        schema[vol.Optional(CONF_ADVANCED)] = section(vol.Schema(advanced), {"collapsed": True})
    return vol.Schema(schema)


def flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Lift the advanced section's fields to the top level; ports as int."""
    data = {k: v for k, v in user_input.items() if k != CONF_ADVANCED}
    data.update(user_input.get(CONF_ADVANCED) or {})
    for key in (CONF_PORT, CONF_CAMERA_PORT):
        if data.get(key) is not None:
            data[key] = int(data[key])
    return {
        k: v.strip() if isinstance(v, str) else v for k, v in data.items() if v not in ("", None)
    }


def carried(
    kind: PrinterKind, data: Mapping[str, Any], *, only_credentials: bool = False
) -> dict[str, Any]:
    """``data`` without what the kind's form (or just its credentials) asks for.

    Keeps what a form cannot show (a discovered model, an Elegoo serial) when
    the form's answer replaces the rest; a field left empty is then gone.
    """
    asked = {f.key for f in fields(kind, only_credentials=only_credentials)}
    return {k: v for k, v in data.items() if k not in asked}


def suggested_values(kind: PrinterKind, data: Mapping[str, Any]) -> dict[str, Any]:
    """Known values shaped like the kind's form (advanced ones inside their section)."""
    advanced = {f.key for f in fields(kind) if f.advanced}
    values = {k: v for k, v in data.items() if k not in advanced}
    values[CONF_ADVANCED] = {k: v for k, v in data.items() if k in advanced}
    return values
