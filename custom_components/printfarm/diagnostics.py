"""Diagnostics: what the printer reports, with secrets, serials and hosts redacted."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PASSWORD, CONF_URL, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .const import CONF_ACCESS_CODE, CONF_CA_FILE, CONF_SERIAL
from .coordinator import PrintfarmConfigEntry
from .detection import DetectionConfigEntry, is_addon_entry
from .farm import FarmConfigEntry, is_farm_entry

TO_REDACT = {
    CONF_ACCESS_CODE,
    CONF_API_KEY,
    CONF_CA_FILE,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_SERIAL,
    CONF_USERNAME,
    CONF_URL,
    "configuration_url",
    "unique_id",
    "stream_url",
    "snapshot_url",
    "thumbnail_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PrintfarmConfigEntry
) -> dict[str, Any]:
    """Entry settings, printer identity, capabilities and live state."""
    if is_addon_entry(entry):
        return _addon_diagnostics(cast(DetectionConfigEntry, entry))
    if is_farm_entry(entry):
        return _farm_diagnostics(cast(FarmConfigEntry, entry))
    client = entry.runtime_data.client
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "info": async_redact_data(dataclasses.asdict(client.info), TO_REDACT),
        "capabilities": dataclasses.asdict(client.capabilities),
        "camera": async_redact_data(dataclasses.asdict(client.camera), TO_REDACT),
        "state": async_redact_data(client.state.as_dict(), TO_REDACT),
        # what the printer reports that no entity shows (stage, positions, per-nozzle ...)
        "details": async_redact_data(dict(client.details), TO_REDACT),
        "last_error": type(client.last_error).__name__ if client.last_error else None,
    }


def _addon_diagnostics(entry: DetectionConfigEntry) -> dict[str, Any]:
    """The add-on's connection (URL and key redacted) and its view of every printer."""
    coordinator = entry.runtime_data
    return {
        "entry": {"data": async_redact_data(dict(entry.data), TO_REDACT)},
        "last_update_success": coordinator.last_update_success,
        "printers": [dataclasses.asdict(p) for p in (coordinator.data or {}).values()],
    }


def _farm_diagnostics(entry: FarmConfigEntry) -> dict[str, Any]:
    """The farm's printers (names and statuses, no addresses) and today's totals."""
    state = entry.runtime_data.data
    return {
        "printers": [
            {"name": p.name, "category": p.category.value, "status": p.status.value}
            for p in state.printers
        ],
        "counts": {category.value: count for category, count in state.counts.items()},
        "print_time_today_s": state.print_time_today_s,
        "failures_today": state.failures_today,
    }
