"""The farm device: its own entry, counts, next to finish, totals, and the all-printer actions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.farm import FARM_UNIQUE_ID, is_farm_entry
from custom_components.printfarm.printers import PrinterCommandError
from simulator.base import SimulatedPrinter

from .conftest import add_printer_entry, printer_device, start_simulator


class Farm:
    """Simulated printers with their loaded entries."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.sims: list[SimulatedPrinter] = []
        self.entries: list[MockConfigEntry] = []

    async def add(
        self, kind: str = "moonraker", *, printing: bool = True, **extra: Any
    ) -> tuple[SimulatedPrinter, MockConfigEntry]:
        sim, line = await start_simulator(kind, start_printing=printing, **extra)
        self.sims.append(sim)
        entry = await add_printer_entry(self.hass, line)
        self.entries.append(entry)
        return sim, entry

    async def stop(self) -> None:
        for entry in self.entries:
            if entry.state is ConfigEntryState.LOADED:
                await self.hass.config_entries.async_unload(entry.entry_id)
        await self.hass.async_block_till_done()
        for sim in self.sims:
            await sim.stop()


@pytest.fixture
async def farm(hass: HomeAssistant) -> AsyncGenerator[Farm]:
    printers = Farm(hass)
    yield printers
    await printers.stop()


def farm_entry(hass: HomeAssistant) -> Any:
    entries = [e for e in hass.config_entries.async_entries(DOMAIN) if is_farm_entry(e)]
    assert len(entries) == 1, entries
    return entries[0]


def farm_entity(hass: HomeAssistant, platform: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{FARM_UNIQUE_ID}_{key}")
    assert entity_id is not None, key
    return entity_id


def owners(device: dr.DeviceEntry) -> set[str]:
    """The entries a device belongs to (HA 2026.8+ has one, and refuses the old set)."""
    entry_id = getattr(device, "config_entry_id", None)
    return {entry_id} if entry_id is not None else set(device.config_entries)


def farm_state(hass: HomeAssistant, key: str) -> Any:
    state = hass.states.get(farm_entity(hass, "sensor", key))
    assert state is not None
    return state


def value(hass: HomeAssistant, key: str) -> str:
    return str(farm_state(hass, key).state)


async def settle(hass: HomeAssistant, entry: MockConfigEntry, predicate: Any) -> None:
    await entry.runtime_data.client.wait_for_state(predicate, 15)
    await hass.async_block_till_done()


async def test_first_printer_brings_the_farm_with_its_own_device(
    hass: HomeAssistant, farm: Farm
) -> None:
    assert not hass.config_entries.async_entries(DOMAIN)
    _sim, printer = await farm.add()
    await hass.async_block_till_done()

    entry = farm_entry(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.title == "Print farm"
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    assert device.identifiers == {(DOMAIN, FARM_UNIQUE_ID)}
    assert device.name == "Print farm"
    assert owners(device) == {entry.entry_id}  # one entry per device (HA 2026.8)
    assert device.via_device_id is None
    # The printer's device stays the printer entry's alone, and is not linked to the farm.
    printer_dev = printer_device(hass, printer)
    assert owners(printer_dev) == {printer.entry_id}
    assert printer_dev.via_device_id is None

    assert value(hass, "printers") == "1"
    assert value(hass, "printers_printing") == "1"
    assert value(hass, "utilisation") == "100.0"
    name = printer_dev.name
    assert value(hass, "next_printer") == name
    assert farm_state(hass, "next_finish").attributes["printer"] == name
    for key in ("printers_paused", "printers_idle", "printers_error", "printers_offline"):
        assert value(hass, key) == "0"
    assert value(hass, "failures_today") == "0"


async def test_printers_join_and_leave_and_the_last_takes_the_farm_along(
    hass: HomeAssistant, farm: Farm
) -> None:
    _a, first = await farm.add("moonraker")
    _b, second = await farm.add("octoprint", printing=False)
    await hass.async_block_till_done()
    assert value(hass, "printers") == "2"
    assert value(hass, "printers_printing") == "1"
    assert value(hass, "printers_idle") == "1"
    assert value(hass, "utilisation") == "50.0"
    idle_names = farm_state(hass, "printers_idle").attributes
    assert idle_names["printers"] == [printer_device(hass, second).name]

    farm_id = farm_entry(hass).entry_id
    assert await hass.config_entries.async_remove(first.entry_id)
    await hass.async_block_till_done()
    assert farm_entry(hass).entry_id == farm_id  # removing a printer never breaks the farm
    assert value(hass, "printers") == "1"
    assert value(hass, "printers_printing") == "0"

    assert await hass.config_entries.async_remove(second.entry_id)
    await hass.async_block_till_done()
    assert not [e for e in hass.config_entries.async_entries(DOMAIN) if is_farm_entry(e)]
    assert dr.async_entries_for_config_entry(dr.async_get(hass), farm_id) == []


async def test_offline_printer_counts_as_offline(hass: HomeAssistant, farm: Farm) -> None:
    sim, printer = await farm.add("moonraker")
    await sim.stop()
    await settle(hass, printer, lambda s: not s.connected)
    assert value(hass, "printers_offline") == "1"
    assert value(hass, "printers_printing") == "0"
    assert value(hass, "next_printer") == "unknown"


async def test_pause_all_then_resume_all(hass: HomeAssistant, farm: Farm) -> None:
    _a, first = await farm.add("moonraker")
    _b, second = await farm.add("octoprint")
    _c, idle = await farm.add("prusalink", printing=False)
    await settle(hass, second, lambda s: s.status.value == "printing")

    response: Any = await hass.services.async_call(
        DOMAIN, "pause_all", {}, blocking=True, return_response=True
    )
    names = {e.entry_id: str(printer_device(hass, e).name) for e in (first, second, idle)}
    assert sorted(response["done"]) == sorted([names[first.entry_id], names[second.entry_id]])
    assert response["skipped"] == [names[idle.entry_id]]
    assert response["failed"] == {}
    for entry in (first, second):
        await settle(hass, entry, lambda s: s.status.value == "paused")
    assert value(hass, "printers_paused") == "2"

    # Only the chosen printer resumes.
    device = printer_device(hass, first).id
    await hass.services.async_call(DOMAIN, "resume_all", {"device_id": [device]}, blocking=True)
    await settle(hass, first, lambda s: s.status.value == "printing")
    assert second.runtime_data.data.status.value == "paused"

    # The farm's own button resumes the rest.
    await hass.services.async_call(
        "button", "press", {"entity_id": farm_entity(hass, "button", "resume_all")}, blocking=True
    )
    await settle(hass, second, lambda s: s.status.value == "printing")


async def test_stop_all_on_chosen_printers(hass: HomeAssistant, farm: Farm) -> None:
    _a, first = await farm.add("moonraker")
    _b, second = await farm.add("octoprint")
    await settle(hass, second, lambda s: s.status.value == "printing")
    device = printer_device(hass, second).id
    await hass.services.async_call(DOMAIN, "stop_all", {"device_id": device}, blocking=True)
    await settle(hass, second, lambda s: s.status.value in ("cancelled", "idle"))
    assert first.runtime_data.data.status.value == "printing"


async def test_farm_actions_refuse_devices_that_are_not_printers(
    hass: HomeAssistant, farm: Farm
) -> None:
    await farm.add("moonraker")
    await hass.async_block_till_done()
    farm_device = dr.async_entries_for_config_entry(dr.async_get(hass), farm_entry(hass).entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "pause_all", {"device_id": [farm_device[0].id]}, blocking=True
        )
    assert err.value.translation_key == "unknown_device"
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "send_gcode", {"device_id": farm_device[0].id, "gcode": "G28"}, blocking=True
        )


async def test_a_printer_that_refuses_is_named_and_the_others_still_pause(
    hass: HomeAssistant, farm: Farm, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a, first = await farm.add("moonraker")
    _b, second = await farm.add("octoprint")
    await settle(hass, second, lambda s: s.status.value == "printing")

    async def refuse() -> None:
        raise PrinterCommandError("the printer said no")

    # Refused at the client boundary, as a printer's own "no" would be.
    monkeypatch.setattr(second.runtime_data.client, "pause", refuse)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "pause_all", {}, blocking=True)
    assert err.value.translation_key == "farm_pause_failed"
    placeholders = err.value.translation_placeholders or {}
    assert str(printer_device(hass, second).name) in placeholders["printers"]
    await settle(hass, first, lambda s: s.status.value == "paused")


async def test_failures_caught_today_and_print_time_today(
    hass: HomeAssistant, farm: Farm, freezer: FrozenDateTimeFactory
) -> None:
    _a, first = await farm.add("moonraker")
    await hass.async_block_till_done()
    assert float(value(hass, "print_time_today")) < 0.01  # hours

    hass.bus.async_fire("printfarm_detection", {"printer": "x", "level": "warning"})
    hass.bus.async_fire("printfarm_detection", {"printer": "x", "level": "failure"})
    await hass.async_block_till_done()
    assert value(hass, "failures_today") == "1"

    freezer.tick(timedelta(minutes=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    seconds = float(value(hass, "print_time_today")) * 3600  # shown in hours
    # Written in tenths of an hour (precision.py): ten minutes show as 0.2 h.
    assert seconds == pytest.approx(720), seconds
    del first
