"""Set up and unload a printer entry against each simulator."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry


async def test_entry_loads_and_creates_device(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    assert loaded_entry.state is ConfigEntryState.LOADED
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), loaded_entry.entry_id)
    assert len(devices) == 1
    entities = er.async_entries_for_config_entry(er.async_get(hass), loaded_entry.entry_id)
    keys = {e.unique_id.rsplit("_", 1)[-1] for e in entities}
    assert "status" in keys or any(e.unique_id.endswith("_status") for e in entities)
    status = next(e for e in entities if e.unique_id.endswith("_status"))
    state = hass.states.get(status.entity_id)
    assert state is not None
    assert state.state in {"preparing", "printing"}
