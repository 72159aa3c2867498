"""Light: the chamber light."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.light import ColorMode, LightEntity, LightEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import ExistsFn, PrintfarmEntity, async_add_when_present
from .helpers import printer_action

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmLightDescription(LightEntityDescription):
    """A light of the printer."""

    exists_fn: ExistsFn


CHAMBER_LIGHT = PrintfarmLightDescription(
    key="chamber_light", translation_key="chamber_light", exists_fn=lambda c, _s: c.light
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the chamber light when the printer has one."""
    coordinator = entry.runtime_data
    async_add_when_present(
        entry, async_add_entities, (CHAMBER_LIGHT,), lambda _d: ChamberLight(coordinator)
    )


class ChamberLight(PrintfarmEntity, LightEntity):
    """On/off chamber light."""

    _attr_color_mode = ColorMode.ONOFF
    _attr_supported_color_modes = {ColorMode.ONOFF}

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Bind the description."""
        super().__init__(coordinator, CHAMBER_LIGHT)

    @property
    def is_on(self) -> bool | None:
        """Whether the light is on (None: not reported)."""
        return self.coordinator.data.light_on

    @printer_action
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on."""
        await self.coordinator.client.set_light(True)

    @printer_action
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off."""
        await self.coordinator.client.set_light(False)
