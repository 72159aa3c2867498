"""Fans: part-cooling, auxiliary and chamber fans, where the printer lets them be set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.fan import FanEntity, FanEntityDescription, FanEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import ExistsFn, PrintfarmEntity, async_add_when_present
from .helpers import printer_action
from .printers import FanKind

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmFanDescription(FanEntityDescription):
    """A fan of the printer, known by its role."""

    fan: FanKind
    exists_fn: ExistsFn


def _settable(fan: FanKind) -> ExistsFn:
    """Only fans the printer lets printfarm set."""
    return lambda capabilities, _state: fan in capabilities.controllable_fans


FANS: tuple[PrintfarmFanDescription, ...] = tuple(
    PrintfarmFanDescription(key=key, translation_key=key, fan=fan, exists_fn=_settable(fan))
    for key, fan in (
        ("part_cooling_fan", FanKind.PART_COOLING),
        ("auxiliary_fan", FanKind.AUXILIARY),
        ("chamber_fan", FanKind.CHAMBER),
    )
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a fan entity for each fan the printer can set."""
    coordinator = entry.runtime_data
    async_add_when_present(
        entry,
        async_add_entities,
        FANS,
        lambda description: PrintfarmFan(coordinator, description),
    )


class PrintfarmFan(PrintfarmEntity, FanEntity):
    """A fan whose speed is set in percent.

    Its speed is what the printer reports. A printer that reports no speed
    for the fan (OctoPrint) gets an assumed state: the last speed set here.
    """

    entity_description: PrintfarmFanDescription
    _attr_supported_features = (
        FanEntityFeature.SET_SPEED | FanEntityFeature.TURN_ON | FanEntityFeature.TURN_OFF
    )

    def __init__(
        self, coordinator: PrintfarmCoordinator, description: PrintfarmFanDescription
    ) -> None:
        """Bind the description; nothing has been set from here yet."""
        super().__init__(coordinator, description)
        self._set_here: int | None = None
        self._last_on = 100

    @property
    def _reported(self) -> int | None:
        return self.coordinator.data.fan_speed(self.entity_description.fan)

    @property
    def assumed_state(self) -> bool:
        """True when the printer does not report this fan's speed."""
        return self._reported is None

    @property
    def percentage(self) -> int | None:
        """The fan's speed in percent (None: never reported nor set)."""
        reported = self._reported
        return reported if reported is not None else self._set_here

    @property
    def is_on(self) -> bool | None:
        """Running, off, or unknown (never reported nor set)."""
        percentage = self.percentage
        return None if percentage is None else percentage > 0

    @printer_action
    async def async_set_percentage(self, percentage: int) -> None:
        """Set the speed; 0 switches the fan off."""
        await self._set(percentage)

    @printer_action
    async def async_turn_on(
        self, percentage: int | None = None, preset_mode: str | None = None, **kwargs: Any
    ) -> None:
        """Switch on at ``percentage``, else at the last speed it ran at."""
        await self._set(self._last_on if percentage is None else percentage)

    @printer_action
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the fan off."""
        await self._set(0)

    async def _set(self, percentage: int) -> None:
        running = self.percentage
        await self.coordinator.client.set_fan_speed(self.entity_description.fan, percentage)
        self._last_on = percentage or running or self._last_on
        self._set_here = percentage
        self._handle_coordinator_update()  # shows a speed the printer does not report
