"""Fan entities driven by the simulators: exist where a fan can be set, follow the printer."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.components.fan import ATTR_PERCENTAGE
from homeassistant.const import (
    ATTR_ASSUMED_STATE,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator.base import SimulatedPrinter

from .conftest import add_printer_entry, start_simulator

Loaded = tuple[SimulatedPrinter, MockConfigEntry]


async def load(hass: HomeAssistant, kind: str, **extra: Any) -> Loaded:
    """An idle simulator of ``kind`` (no job to override the fans) and its loaded entry."""
    sim, line = await start_simulator(kind, start_printing=False, **extra)
    return sim, await add_printer_entry(hass, line)


@pytest.fixture
async def loaded(hass: HomeAssistant, request: pytest.FixtureRequest) -> AsyncGenerator[Loaded]:
    """``request.param``: (kind, simulator extras)."""
    kind, extra = request.param
    sim, entry = await load(hass, kind, **extra)
    yield sim, entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await sim.stop()


def fans(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """Fan entity ids by translation key."""
    return {
        str(entity.translation_key): entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if entity.domain == "fan"
    }


async def call(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call("fan", service, {"entity_id": entity_id, **data}, blocking=True)


def percentage(hass: HomeAssistant, entity_id: str) -> int:
    state = hass.states.get(entity_id)
    assert state is not None
    value = state.attributes[ATTR_PERCENTAGE]
    assert isinstance(value, int)
    return value


ALL = {"part_cooling_fan", "auxiliary_fan", "chamber_fan"}


@pytest.mark.parametrize(
    ("loaded", "expected"),
    [
        (("bambu", {}), ALL),
        (("elegoo", {}), ALL),
        (("moonraker", {}), {"part_cooling_fan"}),
        (("octoprint", {}), {"part_cooling_fan"}),
        (("prusalink", {}), set()),
    ],
    indirect=["loaded"],
    ids=["bambu", "elegoo", "moonraker", "octoprint", "prusalink"],
)
async def test_fans_exist_where_they_can_be_set(
    hass: HomeAssistant, loaded: Loaded, expected: set[str]
) -> None:
    _sim, entry = loaded
    assert set(fans(hass, entry)) == expected


@pytest.mark.parametrize(
    "loaded", [("bambu", {}), ("elegoo", {}), ("moonraker", {})], indirect=True
)
async def test_speed_follows_the_printer(hass: HomeAssistant, loaded: Loaded) -> None:
    sim, entry = loaded
    tolerance = 4 if sim.kind == "bambu" else 1  # Bambu reports 16 levels
    for key, entity_id in fans(hass, entry).items():
        await call(hass, "set_percentage", entity_id, percentage=40)
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == STATE_ON, key
        assert abs(percentage(hass, entity_id) - 40) <= tolerance
        assert not state.attributes.get(ATTR_ASSUMED_STATE)

        await call(hass, "turn_off", entity_id)
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == STATE_OFF
        assert percentage(hass, entity_id) == 0

        await call(hass, "turn_on", entity_id)  # back to the speed it ran at
        assert abs(percentage(hass, entity_id) - 40) <= tolerance
        await call(hass, "turn_on", entity_id, percentage=100)
        assert percentage(hass, entity_id) == 100
    snap = sim.job.tick()
    assert snap.fan == 100
    if sim.kind != "moonraker":
        assert (snap.aux_fan, snap.chamber_fan) == (100, 100)


@pytest.mark.parametrize("loaded", [("octoprint", {})], indirect=True)
async def test_octoprint_fan_is_an_assumed_state(hass: HomeAssistant, loaded: Loaded) -> None:
    sim, entry = loaded
    entity_id = fans(hass, entry)["part_cooling_fan"]
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == STATE_UNKNOWN  # OctoPrint never says how fast it runs
    assert state.attributes[ATTR_ASSUMED_STATE] is True

    await call(hass, "set_percentage", entity_id, percentage=50)
    assert sim.job.tick().fan == 50  # the printer ran M106 S128
    assert percentage(hass, entity_id) == 50
    await call(hass, "turn_off", entity_id)
    assert sim.job.tick().fan == 0
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == STATE_OFF
    await call(hass, "turn_on", entity_id)
    assert sim.job.tick().fan == 50


@pytest.mark.parametrize("loaded", [("bambu", {"authorization_control": True})], indirect=True)
async def test_refused_control_is_a_translated_error(hass: HomeAssistant, loaded: Loaded) -> None:
    sim, entry = loaded
    entity_id = fans(hass, entry)["chamber_fan"]
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "set_percentage", entity_id, percentage=60)
    assert err.value.translation_key == "control_unavailable"
    assert sim.job.tick().chamber_fan == 0


@pytest.mark.parametrize(
    "loaded", [("moonraker", {}), ("elegoo", {}), ("bambu", {})], indirect=True
)
async def test_offline_printer_refuses(hass: HomeAssistant, loaded: Loaded) -> None:
    sim, entry = loaded
    entity_id = fans(hass, entry)["part_cooling_fan"]
    coordinator = entry.runtime_data
    await sim.stop()
    await coordinator.client.wait_for_state(lambda s: not s.connected, 10)
    await hass.async_block_till_done()
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE  # a control of an unreachable printer
    await call(hass, "turn_on", entity_id, percentage=30)  # skipped by Home Assistant
