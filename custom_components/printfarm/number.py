"""Numbers: nozzle and bed target temperatures, speed factor.

Their ranges are the limits the printer's client enforces (its kind's
descriptor), so the UI never offers a value the client then refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .detection import DetectionEntity, PrinterLink, async_add_detection_entities
from .entity import ExistsFn, PrintfarmEntity, async_add_when_present
from .helpers import printer_action
from .printers import Limits, PrinterClient, PrinterState

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmNumberDescription(NumberEntityDescription):
    """A number read from the state and set through the client."""

    value_fn: Callable[[PrinterState], float | None]
    set_fn: Callable[[PrinterClient, float], Awaitable[None]]
    #: (lowest, highest) the kind's client accepts; None when it has no such control.
    range_fn: Callable[[Limits], tuple[float | None, float | None]]
    exists_fn: ExistsFn


NUMBERS: tuple[PrintfarmNumberDescription, ...] = (
    PrintfarmNumberDescription(
        key="nozzle_target",
        translation_key="nozzle_target",
        device_class=NumberDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda s: s.nozzle_target,
        set_fn=lambda c, v: c.set_nozzle_target(v),
        range_fn=lambda limits: (0, limits.nozzle_max),
        exists_fn=lambda c, _s: c.temperature_control,
    ),
    PrintfarmNumberDescription(
        key="bed_target",
        translation_key="bed_target",
        device_class=NumberDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda s: s.bed_target,
        set_fn=lambda c, v: c.set_bed_target(v),
        range_fn=lambda limits: (0, limits.bed_max),
        exists_fn=lambda c, _s: c.temperature_control,
    ),
    PrintfarmNumberDescription(
        key="speed_factor",
        translation_key="speed_factor",
        native_unit_of_measurement=PERCENTAGE,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda s: s.speed_factor,
        set_fn=lambda c, v: c.set_speed_factor(round(v)),
        range_fn=lambda limits: (limits.speed_min, limits.speed_max),
        exists_fn=lambda c, _s: c.speed_factor,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the numbers this printer supports, within the limits its client enforces."""
    coordinator = entry.runtime_data
    limits = coordinator.client.descriptor.limits
    async_add_when_present(
        entry,
        async_add_entities,
        (d for d in NUMBERS if None not in d.range_fn(limits)),
        lambda description: PrintfarmNumber(coordinator, description),
    )
    async_add_detection_entities(
        hass,
        entry,
        coordinator.client.info.unique_id,
        async_add_entities,
        lambda link: [DetectionSensitivityNumber(link)],
    )


class PrintfarmNumber(PrintfarmEntity, NumberEntity):
    """A settable number."""

    entity_description: PrintfarmNumberDescription

    def __init__(
        self, coordinator: PrintfarmCoordinator, description: PrintfarmNumberDescription
    ) -> None:
        """Take the range from the kind's limits."""
        super().__init__(coordinator, description)
        low, high = description.range_fn(coordinator.client.descriptor.limits)
        if low is not None:
            self._attr_native_min_value = low
        if high is not None:
            self._attr_native_max_value = high

    @property
    def native_value(self) -> float | None:
        """The current value."""
        return self.entity_description.value_fn(self.coordinator.data)

    @printer_action
    async def async_set_native_value(self, value: float) -> None:
        """Send the new value to the printer."""
        await self.entity_description.set_fn(self.coordinator.client, value)


DETECTION_SENSITIVITY = NumberEntityDescription(
    key="detection_sensitivity",
    translation_key="detection_sensitivity",
    entity_category=EntityCategory.CONFIG,
    native_min_value=0.5,
    native_max_value=2.0,
    native_step=0.05,
    mode=NumberMode.SLIDER,
)


class DetectionSensitivityNumber(DetectionEntity, NumberEntity):
    """How readily the detection add-on pauses this printer (1 = default)."""

    def __init__(self, link: PrinterLink) -> None:
        """On the printer's device."""
        super().__init__(link, DETECTION_SENSITIVITY)

    @property
    def native_value(self) -> float | None:
        """The printer's sensitivity."""
        printer = self.printer
        return None if printer is None else printer.sensitivity

    async def async_set_native_value(self, value: float) -> None:
        """Store it in the add-on."""
        printer = self.printer
        if printer is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="addon_missing")
        await self.link.hub.async_call(lambda c: c.configure(printer.key, sensitivity=value))
