"""Syrupy snapshots: every platform of every printer kind, device info and diagnostics.

Each simulator runs on a manual clock stopped half-way through a job, and
Home Assistant's clock is frozen, so every value in the snapshots is fixed.
A snapshot per kind x platform shows which entities each kind gets from its
capability flags.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator, Mapping
import dataclasses
import re
from typing import Any
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.printfarm.const import DOMAIN, PLATFORMS
from custom_components.printfarm.diagnostics import async_get_config_entry_diagnostics
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class

from .conftest import entry_data

FROZEN_AT = "2025-06-01 12:00:00+00:00"
#: Values that change from run to run: random ports and camera/image tokens.
VOLATILE = props("port", "camera_port", "access_token", "entity_picture")
_PORT = re.compile(r"(//[^/:]+):\d+")


def mask_ports(data: Any, path: Any) -> Any:
    """Syrupy matcher: URLs keep their shape, the random loopback port becomes <port>."""
    if isinstance(data, str):
        return _PORT.sub(r"\1:<port>", data)
    return data


#: What a snapshot shows of a registry entry: printfarm's choices, in fields that
#: every supported Home Assistant has (2026.x added keys and changed how others print).
ENTITY_FIELDS = (
    "entity_id",
    "unique_id",
    "platform",
    "domain",
    "has_entity_name",
    "translation_key",
    "original_name",
    "original_icon",
    "original_device_class",
    "device_class",
    "entity_category",
    "disabled_by",
    "hidden_by",
    "capabilities",
    "supported_features",
    "unit_of_measurement",
    "options",
)
DEVICE_FIELDS = (
    "identifiers",
    "connections",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "serial_number",
    "sw_version",
    "hw_version",
    "configuration_url",
    "entry_type",
    "via_device_id",
)


def plain_keys(value: Any) -> Any:
    """Mappings with plain string keys, sorted: 2026.x keys capabilities and attributes by enums."""
    if isinstance(value, Mapping):
        return {str(key): plain_keys(item) for key, item in sorted(value.items(), key=str)}
    return value


def entity_view(entry: er.RegistryEntry) -> dict[str, Any]:
    """The registry entry as printfarm shaped it, the same on every release."""
    return {field: plain_keys(getattr(entry, field)) for field in ENTITY_FIELDS}


def state_view(state: State) -> dict[str, Any]:
    """State and attributes, the same on every release."""
    return {"state": state.state, "attributes": plain_keys(state.attributes)}


def device_view(device: dr.DeviceEntry) -> dict[str, Any]:
    """Device info as printfarm gave it, the same on every release."""
    return {field: getattr(device, field) for field in DEVICE_FIELDS}


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's serializer, snapshots in ``snapshots/`` as in HA core."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


class ManualClock:
    """A clock for the simulated job that moves only when the test says so."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current simulated time."""
        return self.now


def half_done_job() -> PrintJob:
    """A job heated up and stopped at 50 %: fixed temperatures, progress and layers."""
    clock = ManualClock()
    job = PrintJob(
        file="snapshot_cube.gcode", duration_s=3600, heat_s=60, total_layers=120, clock=clock
    )
    clock.now = 60.0
    job.tick()  # heating done: printing
    clock.now = 60.0 + 1800.0
    job.tick()  # half the job printed
    return job


def sim_options(kind: str) -> SimOptions:
    """Fixed identities: no random serial or UUID reaches a unique id."""
    extra: dict[str, Any] = {}
    if kind == "octoprint":
        extra["uuid"] = "0c7a9f2e-5d1b-4c3a-9e8f-7a6b5c4d3e2f"
    if kind == "bambu":
        extra["report_interval"] = 3600.0  # one report per command, none on a timer
    return SimOptions(extra=extra)


@pytest.fixture
async def frozen_sim(
    kind: str, freezer: FrozenDateTimeFactory
) -> AsyncGenerator[tuple[SimulatedPrinter, dict[str, Any]]]:
    """A simulator of ``kind`` in a fixed state, with Home Assistant's clock frozen."""
    freezer.move_to(FROZEN_AT)
    sim = simulator_class(kind)(half_done_job(), FrameSource(), sim_options(kind))
    identity = getattr(sim, "identity", None)
    if identity is not None:  # Prusa-Link makes up a serial; pin it
        sim.identity = dataclasses.replace(identity, serial="SIMB0000XSNAP01")  # type: ignore[attr-defined]
    line = await sim.start()
    yield sim, line
    await sim.stop()


async def add_entry(hass: HomeAssistant, line: dict[str, Any]) -> MockConfigEntry:
    """Set up a printfarm entry for the simulator line (the farm's own entry stays out)."""
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data(line), title=line["name"], entry_id=f"{line['kind']}_entry"
    )
    entry.add_to_hass(hass)
    with patch("custom_components.printfarm.async_ensure_farm_entry"):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return entry


@pytest.fixture
def all_enabled() -> Iterator[None]:
    """Register every entity enabled, so disabled-by-default ones have a state to snapshot."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.mark.usefixtures("all_enabled")
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_platform(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    frozen_sim: tuple[SimulatedPrinter, dict[str, Any]],
    platform: Platform,
) -> None:
    """The entities (registry entry and state) one platform creates for one kind."""
    _sim, line = frozen_sim
    with patch("custom_components.printfarm.PLATFORMS", [platform]):
        entry = await add_entry(hass, line)
    entries = sorted(
        er.async_entries_for_config_entry(entity_registry, entry.entry_id),
        key=lambda e: e.entity_id,
    )
    assert {e.domain for e in entries} <= {platform.value}
    if not entries:
        assert entries == snapshot(name="no-entities")
    for entity_entry in entries:
        assert entity_view(entity_entry) == snapshot(name=f"{entity_entry.entity_id}-entry")
        state = hass.states.get(entity_entry.entity_id)
        assert state is not None, entity_entry.entity_id
        assert state_view(state) == snapshot(
            name=f"{entity_entry.entity_id}-state", exclude=VOLATILE
        )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_device_entities_and_diagnostics(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    frozen_sim: tuple[SimulatedPrinter, dict[str, Any]],
) -> None:
    """Device info, which entities are disabled or diagnostic by default, diagnostics.

    The diagnostics download itself is tested in test_entities; here the
    content is what matters.
    """
    _sim, line = frozen_sim
    entry = await add_entry(hass, line)

    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    assert device_view(device) == snapshot(name="device", matcher=mask_ports)

    overview = {
        e.entity_id: {
            "translation_key": e.translation_key,
            "disabled_by": e.disabled_by,
            "entity_category": e.entity_category,
        }
        for e in sorted(
            er.async_entries_for_config_entry(entity_registry, entry.entry_id),
            key=lambda e: e.entity_id,
        )
    }
    assert overview == snapshot(name="entities")

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics == snapshot(name="diagnostics", exclude=VOLATILE, matcher=mask_ports)
    assert await hass.config_entries.async_unload(entry.entry_id)
