"""State writes of a steadily printing printer: values read to the minute change once a minute.

Every state write is a row in the recorder's database. The printer's client is
the boundary: the test hands the coordinator the states a Klipper printer
reports four times a second (time left and elapsed time following every
``print_duration`` push, progress in tenths of a percent) while Home
Assistant's clock moves with them, and counts ``state_changed`` events per
sensor. A real simulator (a Bambu one that reports only when asked) gives the
entry its printer, capabilities and first state.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import dataclasses
from datetime import datetime, timedelta
import math
from typing import Any
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.coordinator import PrintfarmCoordinator
from custom_components.printfarm.farm import FarmCategory, FarmPrinter, _next_to_finish
from custom_components.printfarm.precision import quantise, settle
from custom_components.printfarm.printers import PrinterState, PrintStatus
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class

from .conftest import add_printer_entry

PUSH_S = 0.25  # Klipper's print_duration push cadence
WATCHED = ("remaining_time", "progress", "estimated_finish", "start_time", "elapsed_time")


@pytest.fixture
async def entry(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> AsyncGenerator[MockConfigEntry]:
    """A printing printer whose client reports only what the test hands its coordinator."""
    freezer.move_to("2025-06-01 12:00:07+00:00")
    job = PrintJob(duration_s=3600, heat_s=0, clock=lambda: 0.0)
    sim = simulator_class("bambu")(job, FrameSource(), SimOptions(extra={"report_interval": 3600}))
    line = await sim.start()
    with patch(  # elapsed time and start time are disabled by default
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        entry = await add_printer_entry(hass, line)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await sim.stop()


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """translation_key -> entity_id of the watched sensors."""
    found = {
        str(item.translation_key): item.entity_id
        for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if item.domain == "sensor" and item.translation_key in WATCHED
    }
    assert set(found) == set(WATCHED), found
    return found


def count_writes(hass: HomeAssistant, watched: dict[str, str]) -> dict[str, list[str]]:
    """The states written per translation key, from now on."""
    by_entity = {entity_id: key for key, entity_id in watched.items()}
    written: dict[str, list[str]] = {key: [] for key in watched}

    @callback
    def listen(event: Event[Any]) -> None:
        key = by_entity.get(event.data["entity_id"])
        new = event.data.get("new_state")
        if key is not None and new is not None:
            written[key].append(new.state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, listen)
    return written


def printing(base: PrinterState, printed_s: float, estimate_jitter_s: float = 0.0) -> PrinterState:
    """What Klipper reports ``printed_s`` into a one-hour job (remaining as it estimates it)."""
    return dataclasses.replace(
        base,
        connected=True,
        status=PrintStatus.PRINTING,
        progress=round(100.0 * printed_s / 3600.0, 1),
        remaining_s=round(3600.0 - printed_s + estimate_jitter_s),
        elapsed_s=round(printed_s),
    )


async def test_steady_print_writes_at_most_once_per_10_s(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Ten minutes at four reports a second: about one write a minute per value, not 2,400."""
    watched = entity_ids(hass, entry)
    coordinator: PrintfarmCoordinator = entry.runtime_data
    base, start = coordinator.data, 600.0
    coordinator.async_set_updated_data(printing(base, start))
    await hass.async_block_till_done()
    written = count_writes(hass, watched)
    pushes = int(600 / PUSH_S)
    for n in range(pushes):
        freezer.tick(timedelta(seconds=PUSH_S))
        # Estimates jitter by a few seconds from one report to the next.
        coordinator.async_set_updated_data(printing(base, start + n * PUSH_S, (n % 3 - 1) * 4.0))
    await hass.async_block_till_done()

    budget = 600 // 10
    for key in ("remaining_time", "elapsed_time", "progress"):
        assert 0 < len(written[key]) <= budget, (key, len(written[key]))
    # Time left moved ten minutes: ten whole-minute steps, each shown in whole minutes.
    assert 9 <= len(written["remaining_time"]) <= 11, written["remaining_time"]
    assert all(float(v) == int(float(v)) for v in written["remaining_time"])
    # Progress moved from 16.7 % to 33.3 %: one write per whole percent.
    assert written["progress"][-1] == "33.0", written["progress"]
    assert len(written["progress"]) <= 17
    # The finish and start of a print on schedule do not move, whatever the jitter.
    assert written["estimated_finish"] == [], written["estimated_finish"]
    assert written["start_time"] == [], written["start_time"]


async def test_estimated_finish_follows_a_real_move(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A print that falls five minutes behind shows the later finish at once."""
    watched = entity_ids(hass, entry)
    coordinator: PrintfarmCoordinator = entry.runtime_data
    coordinator.async_set_updated_data(printing(coordinator.data, 1200.0))
    await hass.async_block_till_done()
    before = hass.states.get(watched["estimated_finish"])
    assert before is not None
    written = count_writes(hass, watched)

    freezer.tick(timedelta(seconds=1))
    coordinator.async_set_updated_data(printing(coordinator.data, 1201.0, 300.0))
    await hass.async_block_till_done()

    assert len(written["estimated_finish"]) == 1
    moved = datetime.fromisoformat(written["estimated_finish"][0])
    assert moved - datetime.fromisoformat(before.state) == timedelta(minutes=5)
    assert moved.second == 0
    assert moved > dt_util.utcnow()


@pytest.mark.parametrize(
    ("shown", "new", "expected"),
    [
        (1800.0, 1745.0, 1800.0),  # less than a step away: unchanged
        (1800.0, 1740.0, 1740.0),  # a whole step: the new value, rounded
        (1800.0, 1677.0, 1680.0),
        (1800.0, None, None),  # unknown goes through at once
        (None, 1829.0, 1800.0),
        ("idle", 1829.0, 1800.0),  # a value of another type goes through
        (10.0, float("nan"), float("nan")),
    ],
)
def test_settle(shown: Any, new: Any, expected: Any) -> None:
    """The hysteresis rule on numbers."""
    result = settle(shown, new, 60.0)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(result, float)
        assert math.isnan(result)
    else:
        assert result == expected


def test_settle_timestamps_floor_to_the_minute() -> None:
    """Timestamps are floored; an estimate hovering at a minute boundary moves once, not back."""
    utc = dt_util.UTC
    shown = quantise(datetime(2025, 6, 1, 12, 30, 59, tzinfo=utc), 60.0)
    assert shown == datetime(2025, 6, 1, 12, 30, tzinfo=utc)
    assert settle(shown, datetime(2025, 6, 1, 12, 30, 59, 900000, tzinfo=utc), 60.0) == shown
    later = settle(shown, datetime(2025, 6, 1, 12, 31, 0, 500000, tzinfo=utc), 60.0)
    assert later == datetime(2025, 6, 1, 12, 31, tzinfo=utc)
    assert settle(later, datetime(2025, 6, 1, 12, 30, 59, tzinfo=utc), 60.0) == later


def _printing(name: str, remaining_s: int) -> FarmPrinter:
    return FarmPrinter(
        entry_id=name,
        device_id=None,
        name=name,
        category=FarmCategory.PRINTING,
        status=PrintStatus.PRINTING,
        job="cube.gcode",
        progress=50.0,
        remaining_s=remaining_s,
    )


def test_next_to_finish_does_not_take_turns() -> None:
    """Printers on the same job: the one shown stays next until another is a minute ahead."""
    a, b = _printing("A", 1800), _printing("B", 1830)
    assert _next_to_finish((a, b))[0] == "A"
    # B's estimate dips below A's by seconds: A stays next.
    assert _next_to_finish((a, _printing("B", 1790)), "A")[0] == "A"
    # B is a whole minute ahead: B is next.
    assert _next_to_finish((a, _printing("B", 1739)), "A")[0] == "B"
    # The one shown stopped printing: the first of the others.
    assert _next_to_finish((b,), "A")[0] == "B"
