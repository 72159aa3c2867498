"""Entities driven by the simulators: actions, lifecycle events, offline rule, diagnostics."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.components import camera
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.printfarm.const import DOMAIN
from simulator.base import SimulatedPrinter

from .conftest import printer_device


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """The entity id of the entity with unique id suffix ``key``."""
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if entity.unique_id.endswith(f"_{key}"):
            return entity.entity_id
    raise AssertionError(f"no entity {key}")


async def press(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> None:
    """Press a printfarm button through Home Assistant's service layer."""
    await hass.services.async_call(
        "button", "press", {"entity_id": entity_id(hass, entry, key)}, blocking=True
    )


def status(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The status sensor's state."""
    state = hass.states.get(entity_id(hass, entry, "status"))
    assert state is not None
    return state.state


async def test_pause_resume_stop_and_lifecycle_events(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    assert status(hass, loaded_entry) in {"preparing", "printing"}
    event_id = entity_id(hass, loaded_entry, "print_event")

    await press(hass, loaded_entry, "pause")
    await hass.async_block_till_done()
    assert status(hass, loaded_entry) == "paused"
    event = hass.states.get(event_id)
    assert event is not None
    assert event.attributes["event_type"] == "paused"

    await press(hass, loaded_entry, "resume")
    await hass.async_block_till_done()
    assert status(hass, loaded_entry) in {"preparing", "printing"}
    event = hass.states.get(event_id)
    assert event is not None
    assert event.attributes["event_type"] == "resumed"

    await press(hass, loaded_entry, "stop")
    await hass.async_block_till_done()
    assert status(hass, loaded_entry) in {"cancelled", "idle"}

    # Nothing to pause any more: a translated validation error, not a crash.
    with pytest.raises(ServiceValidationError) as err:
        await press(hass, loaded_entry, "pause")
    assert err.value.translation_key == "not_printing"


async def test_offline_printer_keeps_status_and_refuses_controls(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulated: tuple[SimulatedPrinter, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim, _line = simulated
    client = loaded_entry.runtime_data.client
    client.backoff.initial = client.backoff.maximum = 3600  # stay offline for the test
    await sim.stop()
    await client.wait_for_state(lambda s: not s.connected, 90)
    await hass.async_block_till_done()

    assert status(hass, loaded_entry) == "offline"
    connected = hass.states.get(entity_id(hass, loaded_entry, "connected"))
    assert connected is not None
    assert connected.state == "off"
    nozzle = hass.states.get(entity_id(hass, loaded_entry, "nozzle_temperature"))
    assert nozzle is not None
    assert nozzle.state == STATE_UNAVAILABLE
    pause = hass.states.get(entity_id(hass, loaded_entry, "pause"))
    assert pause is not None
    assert pause.state == STATE_UNAVAILABLE  # a control of an unreachable printer
    offline_lines = [r for r in caplog.records if r.getMessage().endswith("went offline")]
    assert len(offline_lines) == 1


@pytest.mark.parametrize("kind", ["moonraker", "octoprint"])
async def test_nozzle_target_number(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    number_id = entity_id(hass, loaded_entry, "nozzle_target")
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number_id, "value": 180}, blocking=True
    )
    await loaded_entry.runtime_data.client.wait_for_state(lambda s: s.nozzle_target == 180, 10)
    await hass.async_block_till_done()
    state = hass.states.get(number_id)
    assert state is not None
    assert float(state.state) == 180


@pytest.mark.parametrize("kind", ["moonraker", "octoprint"])
async def test_send_gcode_action(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    device = printer_device(hass, loaded_entry)
    await hass.services.async_call(
        DOMAIN, "send_gcode", {"device_id": device.id, "gcode": "M104 S175"}, blocking=True
    )
    await loaded_entry.runtime_data.client.wait_for_state(lambda s: s.nozzle_target == 175, 10)

    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "send_gcode", {"device_id": "nope", "gcode": "G28"}, blocking=True
        )
    assert err.value.translation_key == "unknown_device"


@pytest.mark.parametrize("kind", ["elegoo"])
async def test_send_gcode_refused_where_unsupported(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    device = printer_device(hass, loaded_entry)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "send_gcode", {"device_id": device.id, "gcode": "G28"}, blocking=True
        )
    assert err.value.translation_key == "gcode_unsupported"


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    simulated: tuple[SimulatedPrinter, dict[str, Any]],
) -> None:
    _sim, line = simulated
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    text = json.dumps(diagnostics)
    keys = ("access_code", "api_key", "password", "serial")
    secrets = [str(line[k]) for k in keys if line.get(k)]
    for secret in secrets:
        assert secret not in text
    assert "127.0.0.1" not in text
    assert diagnostics["state"]["status"] in {"preparing", "printing"}
    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"


async def test_camera_still_image(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    client = loaded_entry.runtime_data.client
    if client.camera.kind.value == "none":
        pytest.skip("this simulated model has no camera")
    image = await camera.async_get_image(hass, entity_id(hass, loaded_entry, "camera"))
    assert image.content.startswith(b"\xff\xd8")


@pytest.mark.parametrize("kind", ["moonraker", "elegoo"])
async def test_camera_mjpeg_stream_is_proxied(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, loaded_entry: MockConfigEntry
) -> None:
    camera_id = entity_id(hass, loaded_entry, "camera")
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{camera_id}")
    assert response.status == 200
    assert response.content_type.startswith("multipart/x-mixed-replace")
    chunk = await response.content.read(4096)
    assert b"\xff\xd8" in chunk
    response.close()
