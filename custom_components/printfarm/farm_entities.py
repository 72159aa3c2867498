"""The farm device's entities: counts, next to finish, utilisation, today's totals, buttons.

The sensor and button platforms hand the farm's entry to this module; printer
entries never reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfTime
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .farm import (
    FARM_UNIQUE_ID,
    FarmCategory,
    FarmConfigEntry,
    FarmCoordinator,
    FarmState,
    farm_device_info,
)
from .farm_actions import FarmAction, async_farm_action, raise_on_failures
from .precision import MINUTE, TENTH_HOUR, Shown, settle


@dataclass(frozen=True, kw_only=True)
class FarmSensorDescription(SensorEntityDescription):
    """A farm sensor computed from the farm's state (``step``: see precision.py)."""

    value_fn: Callable[[FarmState], StateType | datetime]
    step: float | None = None
    attributes_fn: Callable[[FarmState], dict[str, Any]] | None = None


def _names(state: FarmState, category: FarmCategory) -> dict[str, Any]:
    return {"printers": [p.name for p in state.printers if p.category is category]}


def _count(category: FarmCategory) -> FarmSensorDescription:
    return FarmSensorDescription(
        key=f"printers_{category.value}",
        translation_key=f"printers_{category.value}",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.count(category),
        attributes_fn=lambda s: _names(s, category),
    )


FARM_SENSORS: tuple[FarmSensorDescription, ...] = (
    FarmSensorDescription(
        key="printers",
        translation_key="printers",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: len(s.printers),
        attributes_fn=lambda s: {"printers": [p.name for p in s.printers]},
    ),
    *(_count(category) for category in FarmCategory),
    FarmSensorDescription(
        key="next_printer",
        translation_key="next_printer",
        value_fn=lambda s: s.next_printer,
    ),
    FarmSensorDescription(
        key="next_finish",
        translation_key="next_finish",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda s: s.next_finish,
        step=MINUTE,
        attributes_fn=lambda s: {"printer": s.next_printer},
    ),
    FarmSensorDescription(
        key="utilisation",
        translation_key="utilisation",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.utilisation,
    ),
    FarmSensorDescription(
        key="print_time_today",
        translation_key="print_time_today",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=1,
        value_fn=lambda s: s.print_time_today_s,
        step=TENTH_HOUR,
    ),
    FarmSensorDescription(
        key="failures_today",
        translation_key="failures_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda s: s.failures_today,
    ),
)


class FarmEntity(CoordinatorEntity[FarmCoordinator]):
    """An entity of the farm's device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: FarmCoordinator, description: Any) -> None:
        """On the farm's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{FARM_UNIQUE_ID}_{description.key}"
        self._attr_device_info = farm_device_info()


class FarmSensor(FarmEntity, SensorEntity):
    """A farm sensor."""

    entity_description: FarmSensorDescription
    _shown: Shown = None

    @property
    def native_value(self) -> Shown:
        """The value for the farm's state, at the description's step."""
        description = self.entity_description
        value = description.value_fn(self.coordinator.data)
        self._shown = settle(self._shown, value, description.step)
        return self._shown

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Which printers, where the description says."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)


@dataclass(frozen=True, kw_only=True)
class FarmButtonDescription(ButtonEntityDescription):
    """A button that runs one action on every printer."""

    action: FarmAction


FARM_BUTTONS: tuple[FarmButtonDescription, ...] = (
    FarmButtonDescription(key="pause_all", translation_key="pause_all", action=FarmAction.PAUSE),
    FarmButtonDescription(key="resume_all", translation_key="resume_all", action=FarmAction.RESUME),
    FarmButtonDescription(key="stop_all", translation_key="stop_all", action=FarmAction.STOP),
)


class FarmButton(FarmEntity, ButtonEntity):
    """Pause, resume or stop every printer."""

    entity_description: FarmButtonDescription

    async def async_press(self) -> None:
        """Run the action on every printer where it applies."""
        action = self.entity_description.action
        raise_on_failures(action, await async_farm_action(self.hass, action))


def async_add_farm_sensors(
    entry: FarmConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The farm's sensors."""
    async_add_entities(FarmSensor(entry.runtime_data, d) for d in FARM_SENSORS)


def async_add_farm_buttons(
    entry: FarmConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The farm's buttons."""
    async_add_entities(FarmButton(entry.runtime_data, d) for d in FARM_BUTTONS)
