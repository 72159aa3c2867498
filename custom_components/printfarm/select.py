"""Select: the speed preset of printers that have named speed levels."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import PrintfarmEntity
from .helpers import printer_action

PARALLEL_UPDATES = 1

SPEED_PRESET = SelectEntityDescription(key="speed_preset", translation_key="speed_preset")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the speed preset select when the printer has presets."""
    coordinator = entry.runtime_data
    if coordinator.client.capabilities.speed_presets:
        async_add_entities([SpeedPresetSelect(coordinator)])


class SpeedPresetSelect(PrintfarmEntity, SelectEntity):
    """Named speed level (silent, standard, sport, ludicrous ...)."""

    available_offline = True  # choosing while offline gives a clear error

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Options come from the printer's capabilities."""
        super().__init__(coordinator, SPEED_PRESET)
        self._attr_options = list(coordinator.client.capabilities.speed_presets)

    @property
    def current_option(self) -> str | None:
        """The active preset."""
        data = self.coordinator.data
        preset = data.speed_preset if data.connected else None
        return preset if preset in self._attr_options else None

    @printer_action
    async def async_select_option(self, option: str) -> None:
        """Switch preset."""
        await self.coordinator.client.set_speed_preset(option)
