"""Light: the chamber light."""

from __future__ import annotations

from typing import Any

from homeassistant.components.light import ColorMode, LightEntity, LightEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import PrintfarmEntity
from .helpers import printer_action

PARALLEL_UPDATES = 1

CHAMBER_LIGHT = LightEntityDescription(key="chamber_light", translation_key="chamber_light")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the chamber light when the printer has one."""
    coordinator = entry.runtime_data
    if coordinator.client.capabilities.light:
        async_add_entities([ChamberLight(coordinator)])


class ChamberLight(PrintfarmEntity, LightEntity):
    """On/off chamber light."""

    available_offline = True  # switching while offline gives a clear error
    _attr_color_mode = ColorMode.ONOFF
    _attr_supported_color_modes = {ColorMode.ONOFF}

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Bind the description."""
        super().__init__(coordinator, CHAMBER_LIGHT)

    @property
    def is_on(self) -> bool | None:
        """Whether the light is on (unknown while the printer is offline)."""
        data = self.coordinator.data
        return data.light_on if data.connected else None

    @printer_action
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on."""
        await self.coordinator.client.set_light(True)

    @printer_action
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off."""
        await self.coordinator.client.set_light(False)
