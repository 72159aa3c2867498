"""The blueprints in blueprints/automation/printfarm, imported as a user imports them and run.

Each test copies the repository's blueprint into Home Assistant's blueprint
folder, creates an automation from it, makes a simulated printer do the thing
(finish, fail, start at night) or fires the add-on's event, and checks what
the automation did. The notify action is a stand-in service; printers and
lights are real entities.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
import shutil
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.printfarm.const import DOMAIN
from simulator.base import SimulatedPrinter

from .conftest import add_printer_entry, printer_device, start_simulator

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "printfarm"


def test_every_blueprint_is_tested() -> None:
    assert sorted(p.name for p in BLUEPRINTS.glob("*.yaml")) == [
        "chamber_light.yaml",
        "detection_notify_pause.yaml",
        "print_done_notify.yaml",
    ]


@pytest.fixture
async def printer(hass: HomeAssistant) -> AsyncGenerator[tuple[SimulatedPrinter, MockConfigEntry]]:
    target = Path(hass.config.path("blueprints", "automation", "printfarm"))
    target.mkdir(parents=True, exist_ok=True)
    for blueprint in BLUEPRINTS.glob("*.yaml"):
        shutil.copy(blueprint, target / blueprint.name)
    assert await async_setup_component(hass, "homeassistant", {})
    sim, line = await start_simulator("moonraker")
    entry = await add_printer_entry(hass, line)
    await entry.runtime_data.client.wait_for_state(lambda s: s.status.value == "printing", 15)
    await hass.async_block_till_done()
    yield sim, entry
    await hass.config_entries.async_unload(entry.entry_id)
    await sim.stop()


def entity(hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str) -> str:
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if item.domain == domain and item.translation_key == key:
            return item.entity_id
    raise AssertionError(f"no {domain} {key}")


async def automation(hass: HomeAssistant, path: str, inputs: dict[str, Any]) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {"automation": {"use_blueprint": {"path": f"printfarm/{path}", "input": inputs}}},
    )
    await hass.async_block_till_done()
    (state,) = hass.states.async_all("automation")
    assert state.state == "on", state


async def wait_for(hass: HomeAssistant, calls: list[ServiceCall], count: int) -> None:
    for _ in range(100):
        await hass.async_block_till_done()
        if len(calls) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(calls)} calls, wanted {count}")


async def test_print_failure_notifies_with_the_camera_picture(
    hass: HomeAssistant, printer: tuple[SimulatedPrinter, MockConfigEntry]
) -> None:
    sim, entry = printer
    calls = async_mock_service(hass, "notify", "phone")
    status = entity(hass, entry, "sensor", "status")
    camera = entity(hass, entry, "camera", "camera")
    await automation(
        hass,
        "print_done_notify.yaml",
        {"status": status, "camera": camera, "notify_action": "notify.phone"},
    )
    sim.job.fail()
    await entry.runtime_data.client.wait_for_state(lambda s: s.status.value == "error", 15)
    await wait_for(hass, calls, 1)
    name = printer_device(hass, entry).name
    data = calls[0].data
    assert data["title"] == f"{name}: print failed"
    assert data["message"].endswith("stopped with an error.")
    assert data["data"]["image"] == f"/api/camera_proxy/{camera}"


async def test_cancelled_prints_notify_only_when_asked(
    hass: HomeAssistant, printer: tuple[SimulatedPrinter, MockConfigEntry]
) -> None:
    sim, entry = printer
    calls = async_mock_service(hass, "notify", "phone")
    await automation(
        hass,
        "print_done_notify.yaml",
        {
            "status": entity(hass, entry, "sensor", "status"),
            "camera": entity(hass, entry, "camera", "camera"),
            "notify_action": "notify.phone",
        },
    )
    sim.job.cancel()
    await entry.runtime_data.client.wait_for_state(lambda s: s.status.value == "cancelled", 15)
    await hass.async_block_till_done()
    assert calls == []


async def test_detection_pauses_the_printer_and_notifies(
    hass: HomeAssistant, printer: tuple[SimulatedPrinter, MockConfigEntry]
) -> None:
    _sim, entry = printer
    calls = async_mock_service(hass, "notify", "phone")
    await automation(hass, "detection_notify_pause.yaml", {"notify_action": "notify.phone"})
    device = printer_device(hass, entry)
    event = {
        "printer": device.name,
        "device_id": device.id,
        "level": "warning",
        "score": 0.61,
        "action": "notify",
        "image": "/media/local/printfarm/1.jpg",
    }
    hass.bus.async_fire("printfarm_detection", event)  # a warning: nothing without warnings on
    await hass.async_block_till_done()
    assert calls == []
    assert entry.runtime_data.data.status.value == "printing"

    hass.bus.async_fire("printfarm_detection", {**event, "level": "failure", "score": 0.9})
    await wait_for(hass, calls, 1)
    await entry.runtime_data.client.wait_for_state(lambda s: s.status.value == "paused", 15)
    assert calls[0].data["title"] == f"{device.name}: print failure detected"
    assert calls[0].data["message"].startswith("Paused. Failure score 90")
    assert calls[0].data["data"]["image"] == "/media/local/printfarm/1.jpg"


async def make_it_local_hour(hass: HomeAssistant, hour: int) -> None:
    """Move Home Assistant to a whole-hour time zone where it is now ``hour`` o'clock.

    The clock itself keeps running: freezing or jumping it would also jump the monotonic
    time the printer client judges staleness by, and the printer would go offline.
    """
    offset = (hour - dt_util.utcnow().hour + 12) % 24 - 12
    await hass.config.async_set_time_zone(f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC")
    assert dt_util.now().hour == hour


async def test_chamber_light_at_night_and_for_detection(
    hass: HomeAssistant,
    printer: tuple[SimulatedPrinter, MockConfigEntry],
) -> None:
    sim, entry = printer
    light = entity(hass, entry, "light", "chamber_light")
    status = entity(hass, entry, "sensor", "status")
    await hass.services.async_call("light", "turn_off", {"entity_id": light}, blocking=True)
    await entry.runtime_data.client.wait_for_state(lambda s: s.light_on is False, 15)
    await automation(
        hass, "chamber_light.yaml", {"status": status, "light": light, "turn_off_after": True}
    )

    # A print that starts by day leaves the light off.
    await make_it_local_hour(hass, 12)
    sim.job.cancel()
    await entry.runtime_data.client.wait_for_state(lambda s: s.status.value == "cancelled", 15)
    sim.job.clear()
    sim.job.start("day.gcode")
    await entry.runtime_data.client.wait_for_state(
        lambda s: s.status.value in ("preparing", "printing"), 15
    )
    await hass.async_block_till_done()
    light_state = hass.states.get(light)
    assert light_state is not None
    assert light_state.state == "off"

    # Detection on this printer turns it on; the print's end turns it off again.
    hass.bus.async_fire(
        "printfarm_detection",
        {"device_id": printer_device(hass, entry).id, "level": "warning", "score": 0.5},
    )
    await entry.runtime_data.client.wait_for_state(lambda s: s.light_on is True, 15)
    sim.job.cancel()
    await entry.runtime_data.client.wait_for_state(lambda s: s.light_on is False, 15)

    # A print that starts at night turns it on.
    await make_it_local_hour(hass, 23)
    sim.job.clear()
    sim.job.start("night.gcode")
    await entry.runtime_data.client.wait_for_state(lambda s: s.light_on is True, 15)


def test_domain() -> None:
    assert DOMAIN == "printfarm"
