"""Repair issues for what only the user can fix, driven by simulators in each condition."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.printers import PrinterNotice, PrinterState
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class
from tests.conftest import RunningSims

from .conftest import entry_data

WAIT = 10.0

StartSim = Callable[..., Awaitable[tuple[Any, dict[str, Any]]]]
AddEntry = Callable[[dict[str, Any]], Awaitable[MockConfigEntry]]


@pytest.fixture
def start_sim(running_sims: RunningSims) -> StartSim:
    async def start(
        kind: str, model: str | None = None, **extra: Any
    ) -> tuple[Any, dict[str, Any]]:
        if kind == "bambu":
            extra.setdefault("report_interval", 0.2)
        options = SimOptions(model=model, extra=extra)
        sim = simulator_class(kind)(PrintJob(heat_s=1, duration_s=600), FrameSource(), options)
        return sim, await running_sims.start(sim)

    return start


@pytest.fixture
async def add_entry(hass: HomeAssistant) -> AsyncIterator[AddEntry]:
    """Set up an entry for a simulator line the way a user's entry would be."""
    entries: list[MockConfigEntry] = []

    async def add(line: dict[str, Any]) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN, data=entry_data(line), title=line["name"], unique_id=line["name"]
        )
        entry.add_to_hass(hass)
        entries.append(entry)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    yield add
    for entry in entries:
        if hass.config_entries.async_get_entry(entry.entry_id) is not None:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def issue(
    hass: HomeAssistant, entry: MockConfigEntry, notice: PrinterNotice
) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{notice.value}_{entry.entry_id}")


def entry_issues(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    return {
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.endswith(entry.entry_id)
    }


def state_of(entry: MockConfigEntry) -> ConfigEntryState:
    """The entry's state (a call, so mypy does not narrow it across awaits)."""
    state: ConfigEntryState = entry.state
    return state


async def wait_for(entry: MockConfigEntry, predicate: Callable[[PrinterState], bool]) -> None:
    """Wait for the printer state; the coordinator has synced the issues by then."""
    await entry.runtime_data.client.wait_for_state(predicate, WAIT)


# ------------------------------------------------------------------- Bambu


async def test_developer_mode_issue_until_the_user_turns_it_on(
    hass: HomeAssistant, start_sim: StartSim, add_entry: AddEntry
) -> None:
    sim, line = await start_sim("bambu", "X1C", authorization_control=True)
    entry = await add_entry(line)
    assert state_of(entry) is ConfigEntryState.LOADED
    found = issue(hass, entry, PrinterNotice.DEVELOPER_MODE_REQUIRED)
    assert found is not None
    assert found.translation_key == "developer_mode_required"
    assert found.translation_placeholders == {"name": line["name"]}
    assert found.severity is ir.IssueSeverity.WARNING
    assert not found.is_fixable
    assert found.learn_more_url == "https://wiki.bambulab.com/en/software/third-party-integration"
    assert entry_issues(hass, entry) == {found.issue_id}

    sim.set_developer_mode(True)
    await wait_for(entry, lambda s: PrinterNotice.DEVELOPER_MODE_REQUIRED not in s.notices)
    assert entry_issues(hass, entry) == set()


async def test_liveview_issue_follows_the_printer_and_goes_on_unload(
    hass: HomeAssistant, start_sim: StartSim, add_entry: AddEntry
) -> None:
    sim, line = await start_sim("bambu", "X1C", liveview=False)
    entry = await add_entry(line)
    found = issue(hass, entry, PrinterNotice.LIVEVIEW_DISABLED)
    assert found is not None
    assert found.severity is ir.IssueSeverity.WARNING
    assert entry_issues(hass, entry) == {found.issue_id}

    sim.set_liveview(True)
    await wait_for(entry, lambda s: PrinterNotice.LIVEVIEW_DISABLED not in s.notices)
    assert entry_issues(hass, entry) == set()

    sim.set_liveview(False)
    await wait_for(entry, lambda s: PrinterNotice.LIVEVIEW_DISABLED in s.notices)
    assert issue(hass, entry, PrinterNotice.LIVEVIEW_DISABLED) is not None

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry_issues(hass, entry) == set()


async def test_open_printer_raises_no_issue(
    hass: HomeAssistant, start_sim: StartSim, add_entry: AddEntry
) -> None:
    _sim, line = await start_sim("bambu", "X1C")
    entry = await add_entry(line)
    assert state_of(entry) is ConfigEntryState.LOADED
    assert entry_issues(hass, entry) == set()


# --------------------------------------------------------------- PrusaLink


async def test_firmware_too_old_issue_until_the_printer_is_updated(
    hass: HomeAssistant, start_sim: StartSim, add_entry: AddEntry
) -> None:
    sim, line = await start_sim("prusalink", no_v1=True)
    entry = await add_entry(line)
    assert state_of(entry) is ConfigEntryState.SETUP_RETRY  # it comes back by itself once updated
    found = issue(hass, entry, PrinterNotice.FIRMWARE_TOO_OLD)
    assert found is not None
    assert found.severity is ir.IssueSeverity.ERROR
    assert found.translation_placeholders == {"name": line["name"]}

    sim.no_v1 = False  # the user updated the firmware
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(entry) is ConfigEntryState.LOADED
    assert entry_issues(hass, entry) == set()


async def test_removing_an_entry_that_never_loaded_removes_its_issue(
    hass: HomeAssistant, start_sim: StartSim, add_entry: AddEntry
) -> None:
    _sim, line = await start_sim("prusalink", no_v1=True)
    entry = await add_entry(line)
    assert state_of(entry) is ConfigEntryState.SETUP_RETRY
    assert issue(hass, entry, PrinterNotice.FIRMWARE_TOO_OLD) is not None

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert entry_issues(hass, entry) == set()


# ------------------------------------------------------------------ Elegoo


async def test_connection_slots_issue_at_setup_and_while_running(
    hass: HomeAssistant, start_sim: StartSim, add_entry: AddEntry
) -> None:
    sim, line = await start_sim("elegoo", max_clients=0, tick_interval=0.05)
    entry = await add_entry(line)
    assert state_of(entry) is ConfigEntryState.SETUP_RETRY
    found = issue(hass, entry, PrinterNotice.CONNECTION_SLOTS_EXHAUSTED)
    assert found is not None
    assert found.severity is ir.IssueSeverity.ERROR

    sim.max_clients = 4  # the user closed another app
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(entry) is ConfigEntryState.LOADED
    assert entry_issues(hass, entry) == set()

    # Dropped while running, and every slot taken meanwhile: the client keeps retrying.
    client = entry.runtime_data.client
    client.backoff.initial = 0.01
    client.backoff.maximum = 0.05
    sim.max_clients = 0
    await sim.drop_clients()
    await wait_for(entry, lambda s: PrinterNotice.CONNECTION_SLOTS_EXHAUSTED in s.notices)
    assert issue(hass, entry, PrinterNotice.CONNECTION_SLOTS_EXHAUSTED) is not None

    sim.max_clients = 4
    await wait_for(entry, lambda s: s.connected and not s.notices)
    assert entry_issues(hass, entry) == set()
