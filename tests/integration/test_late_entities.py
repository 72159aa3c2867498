"""Entities whose value first appears after setup are added then, once each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.coordinator import PrintfarmCoordinator
from custom_components.printfarm.entity import ExistsFn, always, async_add_when_present
from custom_components.printfarm.printers import PrinterState
from tests.printers.test_base import FakeClient


@dataclass(frozen=True)
class Described:
    key: str
    exists_fn: ExistsFn


async def test_entities_are_added_when_their_value_appears(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={}, title="Farm 1")
    entry.add_to_hass(hass)
    coordinator = PrintfarmCoordinator(hass, entry, FakeClient())
    coordinator.data = PrinterState(connected=True)
    entry.runtime_data = coordinator
    descriptions = [
        Described("status", always),
        Described("door", lambda _c, s: s.door_open is not None),
    ]
    added: list[str] = []

    def add(entities: Iterable[Entity]) -> None:
        added.extend(entity.name for entity in entities)  # type: ignore[misc]

    def build(description: Described) -> Entity:
        entity = Entity()
        entity._attr_name = description.key
        return entity

    async_add_when_present(entry, add, descriptions, build)
    assert added == ["status"]
    coordinator.async_set_updated_data(replace(coordinator.data, progress=5.0))
    assert added == ["status"]  # the door is still unknown
    coordinator.async_set_updated_data(replace(coordinator.data, door_open=False))
    assert added == ["status", "door"]
    coordinator.async_set_updated_data(replace(coordinator.data, door_open=True))
    assert added == ["status", "door"]  # never twice
