"""Base entity: device info, unique ids and the offline availability rule."""

from __future__ import annotations

from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import PrintfarmCoordinator

MANUFACTURERS = {
    "bambu": "Bambu Lab",
    "moonraker": "Klipper",
    "octoprint": "OctoPrint",
    "prusalink": "Prusa Research",
    "elegoo": "Elegoo",
}


class PrintfarmEntity(CoordinatorEntity[PrintfarmCoordinator]):
    """An entity of one printer.

    Availability rule: when the printer goes offline, entities whose
    description says ``available_offline`` (the status sensor, the connected
    binary sensor) stay available and say so; every live measurement and
    control becomes unavailable.
    """

    _attr_has_entity_name = True
    available_offline = False

    def __init__(self, coordinator: PrintfarmCoordinator, description: EntityDescription) -> None:
        """Bind the description and the device."""
        super().__init__(coordinator)
        self.entity_description = description
        # Descriptions of status-like entities say so themselves.
        self.available_offline = getattr(description, "available_offline", self.available_offline)
        info = coordinator.client.info
        self._attr_unique_id = f"{info.unique_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, info.unique_id)},
            manufacturer=MANUFACTURERS.get(info.kind.value, info.kind.value),
            model=info.model,
            name=info.name,
            serial_number=info.serial,
            sw_version=info.firmware,
            configuration_url=info.configuration_url,
        )

    _last_written: tuple[Any, ...] | None = None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when what this entity shows has changed.

        A printer that reports every second must not flood the state machine
        and the recorder with identical states. What is shown includes the
        platform's own attributes (a fan's percentage, a light's brightness).
        """
        shown = (
            self.available,
            self.state,
            self.state_attributes,
            self.extra_state_attributes,
            self.assumed_state,
        )
        if shown == self._last_written:
            return
        self._last_written = shown
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """Offline printers keep only their status entities."""
        if not super().available:
            return False
        return self.available_offline or self.coordinator.data.connected
