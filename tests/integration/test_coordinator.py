"""The push coordinator: not-ready and auth failures at setup, offline/online, auth loss, unload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
import importlib
import sys
from types import ModuleType
from typing import Any
from unittest.mock import patch

from homeassistant import block_async_io
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.client import async_create_client
from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.coordinator import PrintfarmCoordinator
from custom_components.printfarm.printers import PrinterAuthError, factory
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from simulator.base import SimulatedPrinter
from simulator.moonraker.server import MoonrakerSimulator

from .conftest import entry_data, start_simulator
from .test_entities import entity_id, status

KEY = "FIRSTKEY"


@pytest.fixture
async def moonraker() -> AsyncGenerator[tuple[MoonrakerSimulator, dict[str, Any]]]:
    """A Klipper printer whose Moonraker asks for an API key."""
    sim, line = await start_simulator("moonraker", api_key=KEY)
    assert isinstance(sim, MoonrakerSimulator)
    yield sim, line
    await sim.stop()


async def _set_up(
    hass: HomeAssistant, line: dict[str, Any], unique_id: str = "printer-1"
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data(line), title="Voron", unique_id=unique_id
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
        and flow["context"]["entry_id"] == entry.entry_id
    ]


def _record_connected(coordinator: PrintfarmCoordinator) -> tuple[list[bool], asyncio.Event]:
    """Every ``connected`` value the entities see; the event fires once back online."""
    seen: list[bool] = []
    back = asyncio.Event()

    def listener() -> None:
        seen.append(coordinator.data.connected)
        if False in seen and seen[-1]:
            back.set()

    coordinator.async_add_listener(listener)
    return seen, back


async def test_unreachable_printer_is_not_ready(hass: HomeAssistant) -> None:
    entry = await _set_up(hass, {"kind": "moonraker", "host": "127.0.0.1", "port": 1})
    assert entry.state is ConfigEntryState.SETUP_RETRY
    # The translated reason says why.
    assert str(entry.reason).startswith("Voron is offline or cannot be reached")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_refused_credentials_fail_setup_and_start_reauth(
    hass: HomeAssistant, moonraker: tuple[MoonrakerSimulator, dict[str, Any]]
) -> None:
    _sim, line = moonraker
    entry = await _set_up(hass, {**line, "api_key": "WRONG"})
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass, entry)) == 1


async def test_refresh_refused_after_connect_starts_reauth(
    hass: HomeAssistant, moonraker: tuple[MoonrakerSimulator, dict[str, Any]]
) -> None:
    _sim, line = moonraker
    with patch.object(MoonrakerClient, "refresh", side_effect=PrinterAuthError("expired")):
        entry = await _set_up(hass, line)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass, entry)) == 1


async def test_connection_loss_goes_offline_and_comes_back(
    hass: HomeAssistant,
    moonraker: tuple[MoonrakerSimulator, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim, line = moonraker
    entry = await _set_up(hass, line)
    coordinator: PrintfarmCoordinator = entry.runtime_data
    coordinator.client.backoff.initial = coordinator.client.backoff.maximum = 0.05
    seen, back = _record_connected(coordinator)

    await sim.drop_connections()
    async with asyncio.timeout(20):
        await back.wait()
    await hass.async_block_till_done()
    assert status(hass, entry) in {"preparing", "printing"}
    assert seen[-1] is True
    messages = [record.getMessage() for record in caplog.records]
    assert messages.count("Printer Voron went offline") == 1
    assert messages.count("Printer Voron is back online") == 1
    assert not _reauth_flows(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_changed_credentials_start_one_reauth(
    hass: HomeAssistant, moonraker: tuple[MoonrakerSimulator, dict[str, Any]]
) -> None:
    sim, line = moonraker
    entry = await _set_up(hass, line, unique_id=sim.machine_id)
    client = entry.runtime_data.client
    assert client.info.unique_id == sim.machine_id
    client.backoff.initial = client.backoff.maximum = 0.05

    sim.api_key = "SECONDKEY"  # someone changed the key in moonraker.conf
    await sim.drop_connections()
    await client.wait_for_state(lambda _s: isinstance(client.last_error, PrinterAuthError), 20)
    await hass.async_block_till_done()

    assert status(hass, entry) == "offline"
    flows = _reauth_flows(hass, entry)
    assert len(flows) == 1

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"api_key": "SECONDKEY"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert status(hass, entry) in {"preparing", "printing"}
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_manual_refresh_while_offline_keeps_the_offline_state(
    hass: HomeAssistant, moonraker: tuple[MoonrakerSimulator, dict[str, Any]]
) -> None:
    sim, line = moonraker
    entry = await _set_up(hass, line)
    client = entry.runtime_data.client
    client.backoff.initial = client.backoff.maximum = 3600  # stay offline for the test
    await sim.stop()
    await client.wait_for_state(lambda s: not s.connected, 20)
    await hass.async_block_till_done()

    assert await async_setup_component(hass, "homeassistant", {})
    status_id = entity_id(hass, entry, "status")
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": status_id}, blocking=True
    )
    assert entry.runtime_data.last_update_success
    assert status(hass, entry) == "offline"
    assert await hass.config_entries.async_unload(entry.entry_id)


def _printfarm_tasks() -> set[asyncio.Task[Any]]:
    """Unfinished tasks running printfarm's own code."""
    tasks = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if not task.done() and code is not None and "custom_components" in code.co_filename:
            tasks.add(task)
    return tasks


async def test_unload_leaves_nothing_running(
    hass: HomeAssistant, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    _sim, line = simulated
    before = _printfarm_tasks()
    entry = await _set_up(hass, line)
    assert entry.state is ConfigEntryState.LOADED
    client = entry.runtime_data.client
    assert _printfarm_tasks() - before, "a loaded printer runs its connection tasks"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    unloaded = hass.config_entries.async_get_entry(entry.entry_id)
    assert unloaded is not None
    assert unloaded.state is ConfigEntryState.NOT_LOADED
    assert _printfarm_tasks() - before == set()
    assert not client.state.connected
    status_state = hass.states.get(entity_id(hass, entry, "status"))
    assert status_state is not None
    assert status_state.state == "unavailable"


@pytest.fixture
def detect_blocking_calls() -> Generator[None]:
    """Home Assistant's detection of blocking calls in the event loop, every check as in production.

    (Under a test runner HA skips the file, import and SSL checks; they matter here.)
    """
    with patch.object(block_async_io, "_IN_TESTS", False):
        block_async_io.enable()
    yield
    calls = block_async_io._BLOCKED_CALLS.calls  # undo what enable() patched
    for call in calls:
        setattr(call.object, call.function, call.original_func)
    calls.clear()


async def test_setup_and_unload_make_no_blocking_call(
    hass: HomeAssistant,
    simulated: tuple[SimulatedPrinter, dict[str, Any]],
    detect_blocking_calls: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _sim, line = simulated
    entry = await _set_up(hass, line)
    assert entry.state is ConfigEntryState.LOADED
    await entry.runtime_data.client.wait_for_state(lambda s: s.connected, 10)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert "Detected blocking call" not in caplog.text


async def test_building_a_client_imports_nothing_new_in_the_loop(
    hass: HomeAssistant, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    """HA flags import_module in the loop unless the name it gets is already in sys.modules.

    (The detector above cannot see this: the factory bound import_module before it was
    patched, whereas a real Home Assistant patches it before loading printfarm.)
    """
    _sim, line = simulated
    asked: list[str] = []
    real = importlib.import_module

    def spy(name: str, package: str | None = None) -> ModuleType:
        asked.append(name)
        return real(name, package)

    with patch.object(factory, "import_module", spy):  # the name the factory calls
        async_create_client(hass, entry_data(line))
    assert asked
    assert all(name in sys.modules for name in asked), asked
