"""Sensors: status, job, temperatures, fans, AMS trays, diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfLength,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .detection import DetectionEntity, PrinterLink, async_add_detection_entities
from .entity import ExistsFn, PrintfarmEntity, always, async_add_when_present
from .farm import FarmConfigEntry, is_farm_entry
from .farm_entities import async_add_farm_sensors
from .precision import MINUTE, PERCENT, settle
from .printers import ACTIVE_STATUSES, AmsTray, PrinterState, PrintStatus

PARALLEL_UPDATES = 0

type SensorValue = StateType | datetime


def _estimated_finish(state: PrinterState) -> datetime | None:
    if state.status not in ACTIVE_STATUSES or state.remaining_s is None:
        return None
    return dt_util.utcnow() + timedelta(seconds=state.remaining_s)


def _start_time(state: PrinterState) -> datetime | None:
    if state.status not in ACTIVE_STATUSES or state.elapsed_s is None:
        return None
    return dt_util.utcnow() - timedelta(seconds=state.elapsed_s)


@dataclass(frozen=True, kw_only=True)
class PrintfarmSensorDescription(SensorEntityDescription):
    """A sensor computed from the printer state.

    ``step``: the precision a user reads the value at (see precision.py); the
    state is written only when the value moves that far.
    """

    value_fn: Callable[[PrinterState], SensorValue]
    step: float | None = None
    exists_fn: ExistsFn = always
    attributes_fn: Callable[[PrinterState], dict[str, Any]] | None = None
    available_offline: bool = False


def _temperature(key: str, value_fn: Callable[[PrinterState], SensorValue], **kw: Any) -> Any:
    return PrintfarmSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=value_fn,
        **kw,
    )


def _fan(key: str, value_fn: Callable[[PrinterState], int | None]) -> PrintfarmSensorDescription:
    return PrintfarmSensorDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=value_fn,
        exists_fn=lambda _c, s: value_fn(s) is not None,
    )


SENSORS: tuple[PrintfarmSensorDescription, ...] = (
    PrintfarmSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in PrintStatus],
        value_fn=lambda s: s.status.value,
        available_offline=True,
    ),
    PrintfarmSensorDescription(
        key="native_status",
        translation_key="native_status",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.native_status,
        available_offline=True,
    ),
    PrintfarmSensorDescription(
        key="progress",
        translation_key="progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.progress,
        step=PERCENT,
    ),
    PrintfarmSensorDescription(
        key="remaining_time",
        translation_key="remaining_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda s: s.remaining_s,
        step=MINUTE,
    ),
    PrintfarmSensorDescription(
        key="estimated_finish",
        translation_key="estimated_finish",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_estimated_finish,
        step=MINUTE,
    ),
    PrintfarmSensorDescription(
        key="start_time",
        translation_key="start_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_start_time,
        step=MINUTE,
    ),
    PrintfarmSensorDescription(
        key="elapsed_time",
        translation_key="elapsed_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.elapsed_s,
        step=MINUTE,
    ),
    PrintfarmSensorDescription(
        key="job_name",
        translation_key="job_name",
        value_fn=lambda s: s.job,
    ),
    PrintfarmSensorDescription(
        key="current_layer",
        translation_key="current_layer",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.layer,
        exists_fn=lambda c, s: c.layers or s.layer is not None,
    ),
    PrintfarmSensorDescription(
        key="total_layers",
        translation_key="total_layers",
        value_fn=lambda s: s.total_layers,
        exists_fn=lambda c, s: c.layers or s.total_layers is not None,
    ),
    _temperature("nozzle_temperature", lambda s: s.nozzle_temp),
    _temperature("nozzle_target_temperature", lambda s: s.nozzle_target),
    _temperature("bed_temperature", lambda s: s.bed_temp),
    _temperature("bed_target_temperature", lambda s: s.bed_target),
    _temperature(
        "chamber_temperature",
        lambda s: s.chamber_temp,
        exists_fn=lambda c, s: c.chamber_temperature or s.chamber_temp is not None,
    ),
    _fan("part_cooling_fan", lambda s: s.fan_part_cooling),
    _fan("auxiliary_fan", lambda s: s.fan_auxiliary),
    _fan("chamber_fan", lambda s: s.fan_chamber),
    PrintfarmSensorDescription(
        key="print_speed",
        translation_key="print_speed",
        native_unit_of_measurement=PERCENTAGE,
        value_fn=lambda s: s.speed_factor,
        exists_fn=lambda c, s: c.speed_factor or s.speed_factor is not None,
    ),
    PrintfarmSensorDescription(
        key="filament_used",
        translation_key="filament_used",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.MILLIMETERS,
        suggested_unit_of_measurement=UnitOfLength.METERS,
        suggested_display_precision=2,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.filament_used_mm,
        exists_fn=lambda _c, s: s.filament_used_mm is not None,
    ),
    PrintfarmSensorDescription(
        key="error",
        translation_key="error",
        value_fn=lambda s: s.error,
    ),
    PrintfarmSensorDescription(
        key="hms_errors",
        translation_key="hms_errors",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: len(s.hms_errors),
        attributes_fn=lambda s: {"codes": list(s.hms_errors)},
        exists_fn=lambda c, _s: c.hms,
    ),
    PrintfarmSensorDescription(
        key="wifi_signal",
        translation_key="wifi_signal",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.wifi_signal,
        exists_fn=lambda c, s: c.wifi_signal or s.wifi_signal is not None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the sensors this printer has; late values and AMS trays as they appear."""
    if is_farm_entry(entry):
        async_add_farm_sensors(cast(FarmConfigEntry, entry), async_add_entities)
        return
    coordinator = entry.runtime_data
    async_add_when_present(
        entry,
        async_add_entities,
        SENSORS,
        lambda description: PrintfarmSensor(coordinator, description),
    )
    async_add_entities([FirmwareSensor(coordinator)])

    known_trays: set[tuple[int, int]] = set()

    @callback
    def add_new_trays() -> None:
        new = [
            AmsTraySensor(coordinator, tray.unit, tray.slot)
            for tray in coordinator.data.ams_trays
            if (tray.unit, tray.slot) not in known_trays
        ]
        known_trays.update(t.tray_key for t in new)
        if new:
            async_add_entities(new)

    add_new_trays()
    entry.async_on_unload(coordinator.async_add_listener(add_new_trays))
    async_add_detection_entities(
        hass,
        entry,
        coordinator.client.info.unique_id,
        async_add_entities,
        lambda link: [FailureScoreSensor(link)],
    )


class PrintfarmSensor(PrintfarmEntity, SensorEntity):
    """A sensor whose value is a function of the state."""

    entity_description: PrintfarmSensorDescription
    _shown: SensorValue = None

    @property
    def native_value(self) -> SensorValue:
        """The value for the current state, at the description's step."""
        description = self.entity_description
        value = description.value_fn(self.coordinator.data)
        self._shown = settle(self._shown, value, description.step)
        return self._shown

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes where the description has them."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)


class FirmwareSensor(PrintfarmEntity, SensorEntity):
    """Firmware version (from the printer's identity)."""

    available_offline = True

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Diagnostic sensor."""
        super().__init__(
            coordinator,
            SensorEntityDescription(
                key="firmware",
                translation_key="firmware",
                entity_category=EntityCategory.DIAGNOSTIC,
            ),
        )

    @property
    def native_value(self) -> str | None:
        """The firmware version string."""
        return self.coordinator.client.info.firmware


class AmsTraySensor(PrintfarmEntity, SensorEntity):
    """One AMS tray: its material, with colour and remaining amount as attributes."""

    def __init__(self, coordinator: PrintfarmCoordinator, unit: int, slot: int) -> None:
        """Tray ``slot`` of AMS ``unit``."""
        super().__init__(
            coordinator,
            SensorEntityDescription(key=f"ams_{unit}_tray_{slot}", translation_key="ams_tray"),
        )
        self._unit = unit
        self._slot = slot
        self.tray_key = (unit, slot)
        self._attr_translation_placeholders = {"unit": str(unit + 1), "slot": str(slot + 1)}

    def _tray(self) -> AmsTray | None:
        for tray in self.coordinator.data.ams_trays:
            if (tray.unit, tray.slot) == (self._unit, self._slot):
                return tray
        return None

    @property
    def available(self) -> bool:
        """Unavailable when the tray disappears."""
        return super().available and self._tray() is not None

    @property
    def native_value(self) -> str | None:
        """The loaded material, e.g. PLA."""
        tray = self._tray()
        return tray.material if tray else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Colour, remaining percentage and whether it feeds now."""
        tray = self._tray()
        if tray is None:
            return {}
        return {"color": tray.color, "remaining": tray.remaining, "active": tray.active}


FAILURE_SCORE = SensorEntityDescription(
    key="failure_score",
    translation_key="failure_score",
    native_unit_of_measurement=PERCENTAGE,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=0,
)


class FailureScoreSensor(DetectionEntity, SensorEntity):
    """The detection add-on's smoothed failure score for this printer's print."""

    def __init__(self, link: PrinterLink) -> None:
        """On the printer's device."""
        super().__init__(link, FAILURE_SCORE)

    @property
    def native_value(self) -> float | None:
        """Smoothed score in percent (unknown before the print's first frame)."""
        printer = self.printer
        if printer is None or printer.score is None:
            return None
        return round(printer.score * 100.0, 1)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The last frame's own score, the level, warm-up and any camera problem."""
        printer = self.printer
        if printer is None:
            return {}
        return {
            "level": printer.level,
            "frame_score": None
            if printer.frame_score is None
            else round(printer.frame_score * 100.0, 1),
            "warming_up": printer.warming_up,
            "problem": printer.problem,
        }
