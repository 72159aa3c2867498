"""Config flow on existing entries: what reauth, reconfigure and rediscovery keep and change."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.config_entries import SOURCE_DHCP, SOURCE_INTEGRATION_DISCOVERY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.client import async_create_client
from custom_components.printfarm.const import DOMAIN
from simulator.base import SimulatedPrinter
from simulator.moonraker.server import MoonrakerSimulator

from .conftest import entry_data, start_simulator
from .test_config_flow import form_input


async def _identity(hass: HomeAssistant, data: dict[str, Any]) -> str:
    """The unique id the printer behind ``data`` reports."""
    client = async_create_client(hass, data)
    await client.connect()
    try:
        return client.info.unique_id
    finally:
        await client.close()


async def _entry(hass: HomeAssistant, data: dict[str, Any], *, setup: bool) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, data=data, title="printer", unique_id=await _identity(hass, data)
    )
    entry.add_to_hass(hass)
    if setup:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return entry


def _suggested(schema: dict[Any, Any]) -> dict[str, Any]:
    """The suggested values of a form's fields."""
    return {
        str(key): key.description["suggested_value"]
        for key in schema
        if key.description and "suggested_value" in key.description
    }


@pytest.fixture
async def elegoo_pair() -> AsyncGenerator[list[tuple[SimulatedPrinter, dict[str, Any]]]]:
    """Two different Elegoo printers."""
    sims = [
        await start_simulator("elegoo", mainboard_id="aaaa0000000000000000000000000001"),
        await start_simulator("elegoo", mainboard_id="bbbb0000000000000000000000000002"),
    ]
    yield sims
    for sim, _line in sims:
        await sim.stop()


async def test_reconfigure_to_another_printer_aborts(
    hass: HomeAssistant, elegoo_pair: list[tuple[SimulatedPrinter, dict[str, Any]]]
) -> None:
    (_a, line_a), (_b, line_b) = elegoo_pair
    entry = await _entry(hass, entry_data(line_a), setup=True)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input("elegoo", entry_data(line_b))
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_device"
    assert entry.data["port"] == line_a["port"]
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("kind", ["bambu"])
async def test_reconfigure_keeps_what_the_form_does_not_show(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    data = {**entry_data(line), "model": line["model"]}
    entry = await _entry(hass, data, setup=False)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    # Known values are offered again, advanced ones inside their section.
    schema = result["data_schema"].schema
    assert _suggested(schema)["serial"] == line["serial"]
    assert _suggested(schema["advanced"].schema.schema)["port"] == line["port"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["model"] == line["model"]
    assert entry.data["access_code"] == line["access_code"]
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_reauth_with_an_emptied_optional_key_removes_it(
    hass: HomeAssistant, kind: str
) -> None:
    sim, line = await start_simulator(kind, api_key="OLDKEY")
    assert isinstance(sim, MoonrakerSimulator)
    try:
        entry = await _entry(hass, entry_data(line), setup=False)
        assert entry.data["api_key"] == "OLDKEY"
        sim.api_key = None  # the server no longer asks for a key
        result = await entry.start_reauth_flow(hass)
        assert result["step_id"] == "reauth_confirm"
        assert {str(k) for k in result["data_schema"].schema} == {"api_key"}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        assert "api_key" not in entry.data
        assert entry.data["port"] == line["port"]
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await sim.stop()


@pytest.mark.parametrize("kind", ["bambu"])
async def test_reauth_for_a_different_printer_aborts(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data(line), title="printer", unique_id="another-serial"
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"access_code": line["access_code"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_device"


@pytest.mark.parametrize("kind", ["bambu"])
async def test_discovered_model_is_stored_with_the_entry(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={
            "kind": kind,
            "host": line["host"],
            "serial": line["serial"],
            "model": line["model"],
            "unique_id": line["serial"],
            "name": "Bambu on the LAN",
            "ignored": "not a config key",
        },
    )
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {
        "name": "Bambu on the LAN",
        "host": line["host"],
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == kind
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["model"] == line["model"]
    assert "ignored" not in result["data"]
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("kind", ["prusalink"])
async def test_dhcp_rediscovery_of_a_configured_prusa_aborts(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    await _entry(hass, entry_data(line), setup=False)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_DHCP},
        data=DhcpServiceInfo(ip=line["host"], hostname="prusa-mk4", macaddress="109c70aabbcc"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
