"""Printers added through the config flow over REST, as scripts/develop adds them."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.data_entry_flow import FlowManagerIndexView
import pytest

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.farm import is_printer_entry
from custom_components.printfarm.forms import flatten, form_schema
from custom_components.printfarm.printers import PrinterKind
from devtools.api import HaApi
from devtools.flows import (
    Added,
    FlowError,
    add_printers,
    form_input,
    line_values,
    read_statuses,
    summary_table,
    wait_settled,
)

from .conftest import Farm

#: Lines as scripts/simulate prints them (shape copied from a real run).
LINES: dict[str, dict[str, Any]] = {
    "bambu": {
        "kind": "bambu",
        "name": "Bambu P1S 1",
        "host": "127.0.0.1",
        "port": 34881,
        "serial": "01P00A000000001",
        "access_code": "16834056",
        "model": "P1S",
        "extra": {"ca_file": "/tmp/ca.pem"},
        "camera_port": 39549,
    },
    "moonraker": {"kind": "moonraker", "name": "m", "host": "127.0.0.1", "port": 44907},
    "octoprint": {
        "kind": "octoprint",
        "name": "o",
        "host": "127.0.0.1",
        "port": 38011,
        "api_key": "6F9F16D7447AB87585982D54D450DA94",
    },
    "prusalink": {
        "kind": "prusalink",
        "name": "Prusa XL 0",
        "host": "127.0.0.1",
        "port": 37159,
        "username": "maker",
        "password": "f4fad4e708bfc375",
        "model": "XL",
        "extra": {"variant": "buddy"},
    },
    "elegoo": {
        "kind": "elegoo",
        "name": "Centauri Carbon 1",
        "host": "127.0.0.1",
        "port": 34113,
        "serial": "e1e90000cc0100000000000000000000",
        "camera_port": 37635,
        "extra": {"video_port": 37635, "discovery_port": 54778, "mainboard_id": "e1e9"},
    },
}

#: What the entry data must hold for each line (host, port and credentials).
EXPECTED_DATA: dict[str, dict[str, Any]] = {
    "bambu": {
        "host": "127.0.0.1",
        "port": 34881,
        "serial": "01P00A000000001",
        "access_code": "16834056",
        "ca_file": "/tmp/ca.pem",
        "camera_port": 39549,
    },
    "moonraker": {"host": "127.0.0.1", "port": 44907},
    "octoprint": {
        "host": "127.0.0.1",
        "port": 38011,
        "api_key": "6F9F16D7447AB87585982D54D450DA94",
    },
    "prusalink": {
        "host": "127.0.0.1",
        "port": 37159,
        "username": "maker",
        "password": "f4fad4e708bfc375",
    },
    "elegoo": {"host": "127.0.0.1", "port": 34113, "camera_port": 37635},
}


def serialized(kind: str) -> list[dict[str, Any]]:
    """The kind's form as the REST API sends it.

    Serialised by the REST view itself: Home Assistant 2025.4 uses
    voluptuous_serialize, 2026.9+ probatio, and the filler must read both.
    """
    view = FlowManagerIndexView(cast(Any, None))  # the flow manager is not used here
    form = {"type": FlowResultType.FORM, "data_schema": form_schema(PrinterKind(kind))}
    sent = view._prepare_result_json(cast(Any, form))["data_schema"]
    return cast(list[dict[str, Any]], sent)


@pytest.mark.parametrize("kind", sorted(LINES))
def test_form_input_fills_the_real_form(kind: str) -> None:
    """The answer built from the served schema passes the form and stores every credential."""
    answer = form_input(serialized(kind), line_values(LINES[kind]))
    validated = form_schema(PrinterKind(kind))(answer)
    assert flatten(validated) == EXPECTED_DATA[kind]


def test_form_input_nests_section_fields_and_skips_unknown_values() -> None:
    schema: list[dict[str, Any]] = [
        {"name": "host", "required": True},
        {
            "name": "advanced",
            "type": "expandable",
            "schema": [{"name": "port", "optional": True}, {"name": "ca_file"}],
        },
        {"name": "api_key", "optional": True},
    ]
    answer = form_input(schema, {"host": "h", "port": 1, "other": 2})
    assert answer == {"host": "h", "advanced": {"port": 1}}


def test_form_input_names_a_required_field_the_line_lacks() -> None:
    schema = [{"name": "host", "required": True}, {"name": "serial", "required": True}]
    with pytest.raises(FlowError, match="serial"):
        form_input(schema, {"host": "h"})
    # A required field with a default is left to the form.
    assert form_input([{"name": "username", "required": True, "default": "maker"}], {}) == {}


def test_line_values_lift_extra_and_drop_descriptions() -> None:
    values = line_values(LINES["prusalink"])
    assert values["variant"] == "buddy"
    assert "kind" not in values
    assert "name" not in values
    assert "model" not in values


def test_summary_table_aligns_columns_and_shows_failures() -> None:
    ok = Added(line=LINES["moonraker"], entry_id="1", title="Voron", state="loaded")
    ok.status = "printing"
    failed = Added(line=LINES["octoprint"], outcome="form error: {'base': 'invalid_auth'}")
    table = summary_table([ok, failed]).splitlines()
    assert table[0].split() == ["Printer", "Kind", "Address", "Entry", "Status"]
    assert set(table[1]) <= {"-", " "}
    assert table[2].split() == ["Voron", "moonraker", "127.0.0.1:44907", "loaded", "printing"]
    assert "invalid_auth" in table[3]
    assert table[3].startswith("o ")
    # Columns line up: every cell of a column starts at the same offset.
    assert table[2].index("moonraker") == table[0].index("Kind")
    assert table[3].index("127.0.0.1:38011") == table[0].index("Address")


def _entries(hass: HomeAssistant) -> list[Any]:
    """The printers' entries (the farm's own entry comes and goes with them)."""
    return [e for e in hass.config_entries.async_entries(DOMAIN) if is_printer_entry(e)]


async def test_every_simulated_printer_added_over_rest_then_replaced(
    hass: HomeAssistant, admin_api: HaApi, farm: Farm
) -> None:
    """First run adds all five; the next run (new ports, new credentials) replaces them."""
    lines = await farm.start()
    results, removed = await add_printers(admin_api, lines)
    assert removed == []
    assert [a.outcome for a in results] == ["added"] * len(lines)
    await wait_settled(admin_api, results, timeout=60)
    await read_statuses(admin_api, results)
    for added in results:
        entry = hass.config_entries.async_get_entry(added.entry_id or "")
        assert entry is not None
        assert entry.state is ConfigEntryState.LOADED
        assert added.state == "loaded"
        assert entry.data["kind"] == added.kind
        assert entry.data["port"] == added.line["port"]
        assert added.status_entity is not None
        assert added.status_entity.startswith("sensor.")
        assert added.status in {"printing", "preparing"}
    first_ids = [a.entry_id for a in results if a.entry_id]

    # Next run: the old simulators are gone, new ones listen elsewhere.
    await farm.stop()
    new_lines = await farm.start()
    assert {line["port"] for line in new_lines}.isdisjoint({line["port"] for line in lines})
    results, removed = await add_printers(admin_api, new_lines, tracked=first_ids)
    await hass.async_block_till_done()
    assert sorted(removed) == sorted(first_ids)
    assert [a.outcome for a in results] == ["added"] * len(new_lines)
    entries = _entries(hass)
    assert len(entries) == len(new_lines)
    assert {e.data["port"] for e in entries} == {line["port"] for line in new_lines}
    for added in results:
        await hass.async_block_till_done()
        entry = hass.config_entries.async_get_entry(added.entry_id or "")
        assert entry is not None
        assert entry.state is ConfigEntryState.LOADED


async def test_untracked_stale_entry_of_the_same_printer_is_replaced(
    hass: HomeAssistant, admin_api: HaApi, farm: Farm
) -> None:
    """.develop/entries.json lost: a not-loaded entry for the same printer gives way."""
    lines = await farm.start("--moonraker", "1")
    results, _removed = await add_printers(admin_api, lines)
    old_id = results[0].entry_id
    assert old_id is not None
    # As after a restart of Home Assistant: the entry's simulator is gone, setup retries.
    await farm.stop()
    await hass.config_entries.async_reload(old_id)
    await hass.async_block_till_done()
    old = hass.config_entries.async_get_entry(old_id)
    assert old is not None
    assert old.state is not ConfigEntryState.LOADED

    new_lines = await farm.start("--moonraker", "1")
    results, removed = await add_printers(admin_api, new_lines, tracked=[])
    assert removed == [old_id]
    assert results[0].outcome == "added"
    entries = _entries(hass)
    assert [e.entry_id for e in entries] == [results[0].entry_id]
    assert entries[0].data["port"] == new_lines[0]["port"]


async def test_unreachable_printer_is_reported_not_added(
    hass: HomeAssistant, admin_api: HaApi
) -> None:
    line = {"kind": "moonraker", "name": "gone", "host": "127.0.0.1", "port": 1}
    results, _removed = await add_printers(admin_api, [line])
    assert results[0].entry_id is None
    assert results[0].outcome == "form error: {'base': 'cannot_connect'}"
    assert _entries(hass) == []
    # The flow left on its form was dropped, not left in progress.
    assert hass.config_entries.flow.async_progress() == []
