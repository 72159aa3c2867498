"""Discovery flows: zeroconf, DHCP and printfarm's own probes, each ending in a working entry."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from homeassistant.config_entries import (
    SOURCE_DHCP,
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_ZEROCONF,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest

from custom_components.printfarm.const import DOMAIN
from simulator.base import SimulatedPrinter
from simulator.octoprint import OctoPrintSimulator

from .conftest import entry_data
from .test_config_flow import _start, form_input


def zeroconf(service: str, port: int, name: str = "printer") -> ZeroconfServiceInfo:
    """What HA's zeroconf hands to the flow."""
    return ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.1"),
        ip_addresses=[ip_address("127.0.0.1")],
        hostname=f"{name}.local.",
        name=f"{name}.{service}",
        port=port,
        type=service,
        properties={},
    )


async def add_discovered(
    hass: HomeAssistant, kind: str, line: dict[str, Any], **found: Any
) -> ConfigFlowResult:
    """Found by printfarm's own probes, confirmed, form filled in: the flow's last result."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"kind": kind, "host": "127.0.0.1", "unique_id": line["serial"], **found},
    )
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == kind
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )


@pytest.mark.parametrize(
    ("kind", "service"),
    [
        ("moonraker", "_moonraker._tcp.local."),
        ("octoprint", "_octoprint._tcp.local."),
        ("prusalink", "_octoprint._tcp.local."),
    ],
)
async def test_zeroconf_discovery_picks_the_right_kind(
    hass: HomeAssistant,
    kind: str,
    service: str,
    simulated: tuple[SimulatedPrinter, dict[str, Any]],
) -> None:
    _sim, line = simulated
    data = entry_data(line)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf(service, line["port"])
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, data)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"]["kind"] == kind
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_zeroconf_octoprint_service_without_a_printer_aborts(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    # Something announces _octoprint._tcp on a port with no printer API at all.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf("_octoprint._tcp.local.", 1)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_a_printer"


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_rediscovery_of_a_configured_printer_aborts(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    info = zeroconf("_moonraker._tcp.local.", line["port"])
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("kind", ["prusalink"])
async def test_dhcp_discovery_offers_prusalink(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_DHCP},
        data=DhcpServiceInfo(ip="127.0.0.1", hostname="prusa-mk4", macaddress="109c70aabbcc"),
    )
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "prusalink"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("kind", ["elegoo", "bambu"])
async def test_integration_discovery_updates_host_of_known_printer(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    result = await add_discovered(hass, kind, line, name="found")
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    assert entry.unique_id == line["serial"]
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)

    moved = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"kind": kind, "host": "127.0.0.2", "unique_id": line["serial"], "name": "found"},
    )
    assert moved["type"] is FlowResultType.ABORT
    assert moved["reason"] == "already_configured"
    assert entry.data["host"] == "127.0.0.2"


@pytest.mark.parametrize("kind", ["octoprint"])
async def test_octoprint_rediscovered_at_a_new_address_by_its_uuid(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    sim, line = simulated
    assert isinstance(sim, OctoPrintSimulator)
    uuid = sim.uuid
    announced = zeroconf("_octoprint._tcp.local.", line["port"])
    announced.properties["uuid"] = uuid.upper()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=announced
    )
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    # The client read the same UUID from discovery.xml: one identity for both paths.
    assert entry.unique_id == uuid.lower()
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)

    # The server had another address when it was added; now it announces itself here.
    hass.config_entries.async_update_entry(entry, data={**entry.data, "host": "octopi.old"})
    moved = zeroconf("_octoprint._tcp.local.", line["port"])
    moved.properties["uuid"] = uuid
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=moved
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    assert entry.data["host"] == "127.0.0.1"


@pytest.mark.parametrize("kind", ["elegoo"])
async def test_adding_by_hand_while_discovered_card_is_open(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    found = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"kind": kind, "host": "127.0.0.1", "unique_id": line["serial"], "name": "found"},
    )
    assert found["step_id"] == "discovery_confirm"

    result = await _start(hass, kind)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    # The open discovery card went away with the new entry.
    assert not [f for f in hass.config_entries.flow.async_progress() if f["handler"] == DOMAIN]
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("kind", ["bambu"])
async def test_bambu_keeps_its_announced_name_and_falls_back_to_model_and_serial(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    result = await add_discovered(hass, kind, line, name="Workshop")
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["title"] == "Workshop"
    await hass.async_block_till_done()
    await hass.config_entries.async_remove(result["result"].entry_id)

    # Announced without a name, or added by hand: the LAN protocol has no name, so
    # model and serial tail tell printers apart (never one "Bambu Lab P1S" per printer).
    result = await add_discovered(hass, kind, line)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["title"].endswith(f" {line['serial'][-4:]}")
    await hass.async_block_till_done()
    await hass.config_entries.async_remove(result["result"].entry_id)

    result = await _start(hass, kind)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, entry_data(line))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["title"].endswith(f" {line['serial'][-4:]}")
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)
