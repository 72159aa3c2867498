"""Platforms driven by the simulators: lifecycle events, controls, offline refusal.

The simulated job runs on a manual clock: the test moves it (heating done,
job finished) or acts on the simulated printer directly, as a user at the
printer would, and waits for the printer to report the result.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import patch

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import DOMAIN, OPTION_POLL_INTERVAL
from custom_components.printfarm.printers import (
    PrinterState,
    PrintStatus,
)
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class

from .conftest import entry_data

CONFIRM_S = 15  # generous: Prusa-Link polls, the others push
RUNNING = (PrintStatus.PREPARING, PrintStatus.PRINTING)


class ManualClock:
    """A clock for the simulated job that moves only when the test says so."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current simulated time."""
        return self.now


class Printer:
    """A simulator on a manual clock, and the printfarm entry set up for it."""

    def __init__(self, sim: SimulatedPrinter, clock: ManualClock, entry: MockConfigEntry) -> None:
        """Bundle what a test drives."""
        self.sim = sim
        self.clock = clock
        self.entry = entry

    @property
    def job(self) -> PrintJob:
        """The simulated job."""
        return self.sim.job

    def advance(self, seconds: float) -> None:
        """Move the job's clock and let the job notice (heating done, job finished)."""
        self.clock.now += seconds
        self.job.tick()

    async def wait_for(
        self, hass: HomeAssistant, predicate: Callable[[PrinterState], bool]
    ) -> None:
        """Wait until the printer reports a matching state and Home Assistant has it."""
        await self.entry.runtime_data.client.wait_for_state(predicate, CONFIRM_S)
        await hass.async_block_till_done()

    def entity_id(self, hass: HomeAssistant, key: str) -> str:
        """The entity id of the entity with unique id suffix ``key``."""
        registry = er.async_get(hass)
        for entity in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            if entity.unique_id.endswith(f"_{key}"):
                return entity.entity_id
        raise AssertionError(f"no entity {key}")

    def state(self, hass: HomeAssistant, key: str) -> str:
        """The state of the entity ``key``."""
        state = hass.states.get(self.entity_id(hass, key))
        assert state is not None
        return state.state


@asynccontextmanager
async def running_printer(
    hass: HomeAssistant,
    kind: str,
    *,
    options: SimOptions | None = None,
    entry_options: dict[str, Any] | None = None,
) -> AsyncIterator[Printer]:
    """A simulator of ``kind`` printing (still heating) on a manual clock, set up in HA.

    On leaving, the entry is unloaded and the simulator stopped.
    """
    clock = ManualClock()
    job = PrintJob(file="cube.gcode", duration_s=3600, heat_s=60, clock=clock)
    sim = simulator_class(kind)(job, FrameSource(), options or SimOptions())
    line = await sim.start()
    entry_opts = dict(entry_options or {})
    if kind == "prusalink":
        entry_opts.setdefault(OPTION_POLL_INTERVAL, 0.2)  # it polls; keep the test short
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data(line), title=line["name"], options=entry_opts
    )
    entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield Printer(sim, clock, entry)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await sim.stop()


@pytest.fixture
async def printer(hass: HomeAssistant, kind: str) -> AsyncIterator[Printer]:
    """A printing simulator of ``kind`` with its entry loaded."""
    async with running_printer(hass, kind) as running:
        yield running


async def go_offline(hass: HomeAssistant, printer: Printer) -> None:
    """Stop the simulator and wait until printfarm says the printer is offline."""
    client = printer.entry.runtime_data.client
    client.backoff.initial = client.backoff.maximum = 3600  # stay offline for the test
    await printer.sim.stop()
    await printer.wait_for(hass, lambda s: not s.connected)


async def test_lifecycle_events_follow_the_printer(hass: HomeAssistant, printer: Printer) -> None:
    """Every lifecycle event fires once, as the printer does it; heating done is none."""
    event_id = printer.entity_id(hass, "print_event")
    fired: list[str] = []

    def record(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == event_id and new is not None:
            fired.append(new.attributes["event_type"])

    unsubscribe = hass.bus.async_listen("state_changed", record)
    try:
        # Heating: Klipper already says printing, the others say preparing.
        await printer.wait_for(hass, lambda s: s.status in RUNNING)
        printer.advance(60)  # heated: printing, which is no new event
        await printer.wait_for(hass, lambda s: s.status is PrintStatus.PRINTING)
        assert fired == []

        printer.job.pause()  # on the printer's own screen
        await printer.wait_for(hass, lambda s: s.status is PrintStatus.PAUSED)
        printer.job.resume()
        await printer.wait_for(hass, lambda s: s.status is PrintStatus.PRINTING)
        printer.advance(3600)
        await printer.wait_for(hass, lambda s: s.status is PrintStatus.FINISHED)
        printer.job.start()
        await printer.wait_for(hass, lambda s: s.status in RUNNING)
        printer.job.cancel()
        await printer.wait_for(hass, lambda s: s.status is PrintStatus.CANCELLED)
        printer.job.start()
        await printer.wait_for(hass, lambda s: s.status in RUNNING)
        printer.job.fail()
        await printer.wait_for(hass, lambda s: s.status is PrintStatus.ERROR)
    finally:
        unsubscribe()

    assert fired == ["paused", "resumed", "finished", "started", "cancelled", "started", "failed"]
    state = hass.states.get(event_id)
    assert state is not None
    assert state.attributes["job"] == printer.entry.runtime_data.client.state.job
    assert printer.state(hass, "problem") == "on"


@pytest.mark.parametrize("kind", ["moonraker", "bambu", "elegoo"])
async def test_chamber_light_switches(hass: HomeAssistant, printer: Printer) -> None:
    light_id = printer.entity_id(hass, "chamber_light")
    assert printer.state(hass, "chamber_light") == "on"

    await hass.services.async_call("light", "turn_off", {ATTR_ENTITY_ID: light_id}, blocking=True)
    await printer.wait_for(hass, lambda s: s.light_on is False)
    assert printer.job.light_on is False
    assert printer.state(hass, "chamber_light") == "off"

    await hass.services.async_call("light", "turn_on", {ATTR_ENTITY_ID: light_id}, blocking=True)
    await printer.wait_for(hass, lambda s: s.light_on is True)
    assert printer.state(hass, "chamber_light") == "on"


@pytest.mark.parametrize("kind", ["bambu", "elegoo"])
async def test_speed_preset_select(hass: HomeAssistant, printer: Printer) -> None:
    select_id = printer.entity_id(hass, "speed_preset")
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: select_id, "option": "sport"}, blocking=True
    )
    await printer.wait_for(hass, lambda s: s.speed_preset == "sport")
    assert printer.state(hass, "speed_preset") == "sport"
    assert printer.job.speed_factor > 100  # the printer really runs faster


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_speed_factor_and_bed_target_numbers(hass: HomeAssistant, printer: Printer) -> None:
    speed_id = printer.entity_id(hass, "speed_factor")
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: speed_id, "value": 150}, blocking=True
    )
    await printer.wait_for(hass, lambda s: s.speed_factor == 150)
    assert printer.job.speed_factor == 150
    assert float(printer.state(hass, "speed_factor")) == 150

    bed_id = printer.entity_id(hass, "bed_target")
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: bed_id, "value": 70}, blocking=True
    )
    await printer.wait_for(hass, lambda s: s.bed_target == 70)
    assert float(printer.state(hass, "bed_target")) == 70
    assert float(printer.state(hass, "bed_target_temperature")) == 70


@pytest.mark.parametrize("kind", ["moonraker", "bambu"])
async def test_controls_are_unavailable_while_offline(
    hass: HomeAssistant, printer: Printer
) -> None:
    """Every control follows HA's entity-unavailable rule: greyed out, skipped by actions."""
    await go_offline(hass, printer)
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("button", "press", "pause", {}),
        ("light", "turn_on", "chamber_light", {}),
        ("light", "turn_off", "chamber_light", {}),
        ("number", "set_value", "nozzle_target", {"value": 200}),
    ]
    if printer.sim.kind == "bambu":
        calls.append(("select", "select_option", "speed_preset", {"option": "sport"}))
    client = printer.entry.runtime_data.client
    with patch.object(client, "_run", side_effect=AssertionError("reached the client")):
        for domain, service, key, data in calls:
            assert printer.state(hass, key) == STATE_UNAVAILABLE, key
            await hass.services.async_call(
                domain,
                service,
                {ATTR_ENTITY_ID: printer.entity_id(hass, key), **data},
                blocking=True,
            )


@pytest.mark.parametrize("kind", ["octoprint"])
async def test_revoked_credentials_start_reauth(hass: HomeAssistant, printer: Printer) -> None:
    """A refresh refused for bad credentials: entities unavailable, reauth flow started."""
    printer.sim.api_key = "REVOKED"  # type: ignore[attr-defined]
    coordinator = printer.entry.runtime_data
    await coordinator.async_refresh()
    await hass.async_block_till_done()

    assert coordinator.last_update_success is False
    assert printer.state(hass, "nozzle_temperature") == "unavailable"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
