"""Fixtures for the Home Assistant layer: real simulators on loopback, real config entries."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.client import async_create_client
from custom_components.printfarm.const import CONF_KIND, DOMAIN
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/printfarm in every test of this folder."""


async def start_simulator(
    kind: str, *, start_printing: bool = True, speed: float = 1.0, **extra: Any
) -> tuple[SimulatedPrinter, dict[str, Any]]:
    """A simulated printer of ``kind`` on a free loopback port, and its JSON line."""
    job = PrintJob(duration_s=600, heat_s=1, speed=speed, start_printing=start_printing)
    options = SimOptions(extra=dict(extra))
    sim = simulator_class(kind)(job, FrameSource(), options)
    line = await sim.start()
    return sim, line


def entry_data(line: dict[str, Any]) -> dict[str, Any]:
    """Config entry data for a simulator line (what the config flow would store)."""
    data = {k: v for k, v in line.items() if k not in ("name", "kind", "variant", "model")}
    data.update(line.get("extra") or {})
    data[CONF_KIND] = line["kind"]
    return {k: v for k, v in data.items() if k in ENTRY_KEYS}


async def add_printer_entry(hass: HomeAssistant, line: dict[str, Any]) -> MockConfigEntry:
    """A loaded printfarm entry for a simulator line, with the unique id the flow would give."""
    data = entry_data(line)
    probe = async_create_client(hass, data)
    await probe.connect()
    unique_id = probe.info.unique_id
    await probe.close()
    entry = MockConfigEntry(domain=DOMAIN, data=data, title=line["name"], unique_id=unique_id)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


ENTRY_KEYS = {
    "kind",
    "host",
    "port",
    "serial",
    "access_code",
    "api_key",
    "username",
    "password",
    "camera_port",
    "ca_file",
}


@pytest.fixture(params=["moonraker", "octoprint", "prusalink", "elegoo", "bambu"])
def kind(request: pytest.FixtureRequest) -> str:
    """Every printer kind."""
    return str(request.param)


@pytest.fixture
async def simulated(kind: str) -> AsyncGenerator[tuple[SimulatedPrinter, dict[str, Any]]]:
    """A running simulator of ``kind``."""
    try:
        sim, line = await start_simulator(kind)
    except (ImportError, RuntimeError, OSError) as err:
        pytest.fail(f"{kind} simulator cannot start: {err}")
    yield sim, line
    await sim.stop()


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> AsyncGenerator[MockConfigEntry]:
    """A printfarm entry for the simulated printer, set up."""
    _sim, line = simulated
    entry = await add_printer_entry(hass, line)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def printer_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """The one device of a printer's entry.

    Looked up from the entry: ``async_get_device`` is refused from Home
    Assistant 2026.8, and its successor does not exist in 2025.4.
    """
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1, devices
    return devices[0]
