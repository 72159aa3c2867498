"""Binary sensors: connected, printing, problem, door."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry
from .detection import DetectionEntity, PrinterLink, async_add_detection_entities
from .entity import ExistsFn, PrintfarmEntity, always, async_add_when_present
from .printers import PrinterState, PrintStatus

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PrintfarmBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor computed from the printer state."""

    is_on_fn: Callable[[PrinterState], bool | None]
    exists_fn: ExistsFn = always
    available_offline: bool = False


BINARY_SENSORS: tuple[PrintfarmBinarySensorDescription, ...] = (
    PrintfarmBinarySensorDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda s: s.connected,
        available_offline=True,
    ),
    PrintfarmBinarySensorDescription(
        key="printing",
        translation_key="printing",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda s: s.status in (PrintStatus.PREPARING, PrintStatus.PRINTING),
    ),
    PrintfarmBinarySensorDescription(
        key="problem",
        translation_key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda s: s.status is PrintStatus.ERROR or bool(s.hms_errors),
    ),
    PrintfarmBinarySensorDescription(
        key="door",
        translation_key="door",
        device_class=BinarySensorDeviceClass.DOOR,
        is_on_fn=lambda s: s.door_open,
        exists_fn=lambda c, s: c.door or s.door_open is not None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the binary sensors this printer has (a door once it is reported)."""
    coordinator = entry.runtime_data
    async_add_when_present(
        entry,
        async_add_entities,
        BINARY_SENSORS,
        lambda description: PrintfarmBinarySensor(coordinator, description),
    )
    async_add_detection_entities(
        hass,
        entry,
        coordinator.client.info.unique_id,
        async_add_entities,
        lambda link: [FailureDetectedBinarySensor(link)],
    )


class PrintfarmBinarySensor(PrintfarmEntity, BinarySensorEntity):
    """A binary sensor whose value is a function of the state."""

    entity_description: PrintfarmBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The value for the current state."""
        return self.entity_description.is_on_fn(self.coordinator.data)


FAILURE_DETECTED = BinarySensorEntityDescription(
    key="failure_detected",
    translation_key="failure_detected",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


class FailureDetectedBinarySensor(DetectionEntity, BinarySensorEntity):
    """On while the detection add-on judges this printer's print as failed."""

    def __init__(self, link: PrinterLink) -> None:
        """On the printer's device."""
        super().__init__(link, FAILURE_DETECTED)

    @property
    def is_on(self) -> bool | None:
        """Failure tier reached in the current print."""
        printer = self.printer
        return None if printer is None else printer.level == "failure"

    @property
    def extra_state_attributes(self) -> dict[str, str | None]:
        """The level, including the warning tier."""
        printer = self.printer
        return {} if printer is None else {"level": printer.level}
