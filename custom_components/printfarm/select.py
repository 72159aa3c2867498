"""Select: the speed preset of printers that have named speed levels."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import ExistsFn, PrintfarmEntity, async_add_when_present
from .helpers import printer_action

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmSelectDescription(SelectEntityDescription):
    """A choice among the printer's named settings."""

    exists_fn: ExistsFn


SPEED_PRESET = PrintfarmSelectDescription(
    key="speed_preset",
    translation_key="speed_preset",
    exists_fn=lambda c, _s: bool(c.speed_presets),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the speed preset select when the printer has presets."""
    coordinator = entry.runtime_data
    async_add_when_present(
        entry, async_add_entities, (SPEED_PRESET,), lambda _d: SpeedPresetSelect(coordinator)
    )


class SpeedPresetSelect(PrintfarmEntity, SelectEntity):
    """Named speed level (silent, standard, sport, ludicrous ...)."""

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Options come from the printer's capabilities."""
        super().__init__(coordinator, SPEED_PRESET)
        self._attr_options = list(coordinator.client.capabilities.speed_presets)

    @property
    def current_option(self) -> str | None:
        """The active preset."""
        preset = self.coordinator.data.speed_preset
        return preset if preset in self._attr_options else None

    @printer_action
    async def async_select_option(self, option: str) -> None:
        """Switch preset."""
        await self.coordinator.client.set_speed_preset(option)
