"""The add-on service against Home Assistant served over loopback, with printfarm on simulators.

Home Assistant's own code (REST, WebSocket, camera proxy, services, events,
registries) answers over real HTTP; two simulated printers speak their real
protocols; the add-on service runs unchanged and is connected to the integration
through the integration's own config flow. One printer's camera switches to
failure frames: that print is paused within the bound, the other keeps printing,
and the integration's entities on the failed printer's device show it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import DOMAIN
from ml_addon.printfarm_addon.config import Environment, ExtraCamera, Options
from ml_addon.printfarm_addon.service import Service
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class
from tests.devtools.conftest import served
from tests.integration.conftest import add_printer_entry

from .conftest import FRAMES

INTERVAL = 0.25
WARMUP = 4
PAUSE_BOUND_FRAMES = 8
TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """printfarm is loaded from custom_components/."""


class Clock:
    """A camera clock the test moves: the failure frames start when it says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def start_printer(kind: str, clock: Clock) -> tuple[SimulatedPrinter, dict[str, Any]]:
    job = PrintJob(duration_s=3600, heat_s=1, speed=1.0, start_printing=True)
    camera = FrameSource(FRAMES / "normal", FRAMES / "failure", failure_after=1000.0, clock=clock)
    sim = simulator_class(kind)(job, camera, SimOptions())
    return sim, await sim.start()


def wait_for_state(
    hass: HomeAssistant, entity_id: str, accept: Callable[[str], bool]
) -> asyncio.Future[str]:
    """A future set when ``entity_id``'s state is accepted (now or later)."""
    future: asyncio.Future[str] = hass.loop.create_future()
    state = hass.states.get(entity_id)
    if state is not None and accept(state.state):
        future.set_result(state.state)
        return future

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and accept(new.state) and not future.done():
            future.set_result(new.state)

    remove = async_track_state_change_event(hass, [entity_id], changed)
    future.add_done_callback(lambda _f: remove())
    return future


@pytest.fixture
async def farm() -> AsyncGenerator[tuple[Clock, list[tuple[SimulatedPrinter, dict[str, Any]]]]]:
    """Two printers; the first one's camera clock is the one the test moves."""
    clock = Clock()
    printers = [await start_printer("moonraker", clock), await start_printer("octoprint", Clock())]
    yield clock, printers
    for sim, _line in printers:
        await sim.stop()


@pytest.fixture
async def service(
    hass: HomeAssistant, aiohttp_client: Any, hass_access_token: str, tmp_path: Path
) -> AsyncGenerator[Service]:
    base = await served(
        hass, aiohttp_client, "config", "websocket_api", "api", "persistent_notification"
    )
    env = Environment(
        ha_url=base,
        ws_url=base.replace("http", "ws", 1) + "/api/websocket",
        token=hass_access_token,
        options_path=tmp_path / "options.json",
        data_dir=tmp_path / "data",
        config_dir=tmp_path / "config",
        media_dir=tmp_path / "media",
        supervisor=False,
        ui_host="127.0.0.1",
        ui_port=0,
        api_host="127.0.0.1",
        api_port=0,
        ingress_peer=None,
    )
    options = Options(
        interval=INTERVAL,
        warmup_frames=WARMUP,
        threads=1,
        timelapse_keep=5,
        # A listed camera that does not exist: watched all the time, never a frame.
        cameras=(ExtraCamera(camera="camera.ghost", pause="button.ghost_pause"),),
    )
    running = Service(env, options)
    try:
        yield running
    finally:
        await running.stop()


async def test_failing_camera_pauses_its_print_and_the_integration_shows_it(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    farm: tuple[Clock, list[tuple[SimulatedPrinter, dict[str, Any]]]],
    service: Service,
    tmp_path: Path,
) -> None:
    clock, printers = farm
    entries = [await add_printer_entry(hass, line) for _sim, line in printers]
    failing, healthy = entries

    def entity(entry: MockConfigEntry, domain: str, key: str) -> str:
        for item in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
            if item.domain == domain and item.unique_id.endswith(f"_{key}"):
                return item.entity_id
        raise AssertionError(f"no {domain} {key} for {entry.title}")

    status_failing = entity(failing, "sensor", "status")
    status_healthy = entity(healthy, "sensor", "status")
    assert state_of(hass, status_failing).state == "printing"

    await service.start()
    # The integration side: added through the config flow's manual-URL step.
    flow = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    flow = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"next_step_id": "addon"}
    )
    assert flow["step_id"] == "addon"
    flow = await hass.config_entries.flow.async_configure(
        flow["flow_id"],
        {CONF_URL: f"http://127.0.0.1:{service.api_port}", CONF_API_KEY: service.api_key},
    )
    assert flow["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    # Warm-up on normal frames first: both printers watched, nothing detected.
    async with asyncio.timeout(TIMEOUT):
        while len(printing(service)) < 2 or not all(
            w.frames > WARMUP + 2 for w in printing(service)
        ):
            await next_update(service)
    # The dead camera is reported, never counted as evidence, and delays nobody.
    ghost = service.watchers["camera.ghost"]
    assert ghost.frames == 0
    assert ghost.problem is not None
    assert "camera.ghost" in ghost.problem
    assert ghost.decision.level.value == "ok"
    assert all(w.decision.level.value == "ok" for w in printing(service))
    detected = entity(failing, "binary_sensor", "failure_detected")
    assert state_of(hass, detected).state == "off"
    assert state_of(hass, entity(failing, "switch", "detection_enabled")).state == "on"
    assert float(state_of(hass, entity(failing, "number", "detection_sensitivity")).state) == 1.0

    # The failing printer's camera now serves failure frames.
    watcher = next(
        w for w in service.watchers.values() if w.spec.device_id == device_of(hass, failing)
    )
    frames_before = watcher.frames
    paused = wait_for_state(hass, status_failing, lambda s: s == "paused")
    clock.now = 2000.0
    async with asyncio.timeout(TIMEOUT):
        await paused
    assert watcher.frames - frames_before <= PAUSE_BOUND_FRAMES

    # The other printer keeps printing and its detection says ok.
    assert state_of(hass, status_healthy).state == "printing"
    other = next(w for w in printing(service) if w is not watcher)
    assert other.decision.level.value == "ok"

    # The integration's entities on the failed printer's device show the detection.
    await hass.async_block_till_done()
    async with asyncio.timeout(TIMEOUT):
        await wait_for_state(hass, detected, lambda s: s == "on")
    score = float(state_of(hass, entity(failing, "sensor", "failure_score")).state)
    assert score > 90.0
    image = state_of(hass, entity(failing, "image", "last_detection"))
    assert image.attributes["level"] == "failure"
    assert image.attributes["action"] == "pause"
    assert state_of(hass, entity(healthy, "binary_sensor", "failure_detected")).state == "off"

    # The "false alarm" button stores the frame as feedback for the camera's correction.
    await hass.services.async_call(
        "button", "press", {"entity_id": entity(failing, "button", "false_alarm")}, blocking=True
    )
    record = service.history.detections(watcher.spec.key, 1)[0]
    assert record.feedback == "false_alarm"
    assert any((tmp_path / "data" / "adaptation").iterdir())
    assert any((tmp_path / "media" / "printfarm" / "detections").rglob("*.jpg"))

    # Turning detection off through the switch reaches the add-on.
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": entity(healthy, "switch", "detection_enabled")},
        blocking=True,
    )
    assert other.enabled is False
    for entry in entries:
        await hass.config_entries.async_unload(entry.entry_id)
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def printing(service: Service) -> list[Any]:
    """The watchers of the two simulated printers (not the listed ghost camera)."""
    return [w for w in service.watchers.values() if w.spec.printfarm]


def state_of(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


def device_of(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    from homeassistant.helpers import device_registry as dr

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    return devices[0].id


async def next_update(service: Service) -> None:
    """Wait for the next printer update the service publishes."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    publish = service.api.broadcast

    def hook(watcher: Any) -> None:
        publish(watcher)
        if not future.done():
            future.set_result(None)

    assert service.runtime is not None
    service.runtime.publish = hook
    try:
        await future
    finally:
        service.runtime.publish = publish
