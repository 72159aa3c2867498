"""Config flow: every kind added against its simulator, errors recover, reauth, reconfigure."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import CONF_ADVANCED, DOMAIN
from simulator.base import SimulatedPrinter

from .conftest import entry_data

ADVANCED_KEYS = {
    "bambu": {"port", "camera_port", "ca_file"},
    "prusalink": {"port"},
    "elegoo": {"port", "camera_port"},
}


def form_input(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Split entry data into what the kind's form takes (advanced fields in their section)."""
    advanced_keys = ADVANCED_KEYS.get(kind, set())
    fields = {k: v for k, v in data.items() if k != "kind" and k not in advanced_keys}
    advanced = {k: v for k, v in data.items() if k in advanced_keys}
    if kind == "elegoo":
        fields.pop("serial", None)
    if advanced:
        fields[CONF_ADVANCED] = advanced
    return fields


async def _start(hass: HomeAssistant, kind: str) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    return result


async def test_user_flow_adds_each_kind(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    data = entry_data(line)
    result = await _start(hass, kind)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, data)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    assert entry.unique_id
    assert entry.data["kind"] == kind
    assert entry.data["host"] == "127.0.0.1"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)

    # The same printer cannot be added twice.
    result = await _start(hass, kind)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, data)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_unreachable_printer_then_recovery(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    data = entry_data(line)
    result = await _start(hass, kind)
    wrong = {**form_input(kind, data), "port": 1}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], wrong)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, data)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


CREDENTIAL = {"bambu": "access_code", "octoprint": "api_key", "prusalink": "password"}


@pytest.mark.parametrize("kind", sorted(CREDENTIAL))
async def test_wrong_credentials_then_recovery(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    data = entry_data(line)
    result = await _start(hass, kind)
    wrong = form_input(kind, {**data, CREDENTIAL[kind]: "00000000"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], wrong)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, data)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("kind", sorted(CREDENTIAL))
async def test_reauth_stores_new_credentials(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    data = entry_data(line)
    good = data[CREDENTIAL[kind]]
    result = await _start(hass, kind)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, data)
    )
    entry = result["result"]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(entry, data={**data, CREDENTIAL[kind]: "00000000"})
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == "reauth"
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {CREDENTIAL[kind]: "11111111"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CREDENTIAL[kind]: good})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CREDENTIAL[kind]] == good
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_reconfigure_changes_port(
    hass: HomeAssistant, kind: str, loaded_entry: MockConfigEntry
) -> None:
    data = dict(loaded_entry.data)
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**form_input(kind, data), "port": 1}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, data)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert loaded_entry.data["port"] == data["port"]


@pytest.mark.parametrize("kind", ["prusalink", "moonraker"])
async def test_options_flow(hass: HomeAssistant, kind: str, loaded_entry: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"] is not None
    schema_keys = {str(k) for k in result["data_schema"].schema}
    assert ("poll_interval" in schema_keys) is (kind == "prusalink")
    user_input: dict[str, Any] = {"camera": "snapshot"}
    if kind == "prusalink":
        user_input["poll_interval"] = 10
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.options == user_input


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_options_flow_shows_a_legacy_camera_bool_as_a_mode(
    hass: HomeAssistant, kind: str, loaded_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(loaded_entry, options={"camera": False})
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["data_schema"] is not None
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested["camera"] == "off"
