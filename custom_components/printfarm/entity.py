"""Base entity, one existence predicate for every platform, and the availability rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .printers import Capabilities, PrinterState

#: Whether a printer has an entity: from what it can do and what it reports.
type ExistsFn = Callable[[Capabilities, PrinterState], bool]


def always(_capabilities: Capabilities, _state: PrinterState) -> bool:
    """Every printer has it."""
    return True


class _Described(Protocol):
    """A platform's entity description: a key and an existence predicate."""

    @property
    def key(self) -> str: ...

    @property
    def exists_fn(self) -> ExistsFn: ...


@callback
def async_add_when_present[D: _Described](
    entry: PrintfarmConfigEntry,
    add: Callable[[Iterable[Entity]], None],
    descriptions: Iterable[D],
    build: Callable[[D], Entity],
) -> None:
    """Add each description's entity as soon as it exists, at setup or on a later update.

    A value that first appears after setup (an AMS unit plugged in, a chamber
    sensor reported once Klipper is ready) brings its entity then.
    """
    coordinator = entry.runtime_data
    pending = list(descriptions)

    @callback
    def add_present() -> None:
        capabilities, state = coordinator.client.capabilities, coordinator.data
        present = [d for d in pending if d.exists_fn(capabilities, state)]
        if present:
            for description in present:
                pending.remove(description)
            add(build(description) for description in present)

    add_present()
    remove: CALLBACK_TYPE = coordinator.async_add_listener(add_present)
    entry.async_on_unload(remove)


class PrintfarmEntity(CoordinatorEntity[PrintfarmCoordinator]):
    """An entity of one printer.

    Availability rule: while the printer cannot be reached, only the entities
    that report reachability stay available (the status sensor says
    ``offline``, the connectivity sensor says disconnected, the firmware
    version is still known). Every measurement and every control is
    unavailable: Home Assistant greys controls out and skips them in
    actions, instead of offering buttons that can only fail.
    """

    _attr_has_entity_name = True
    available_offline = False

    def __init__(self, coordinator: PrintfarmCoordinator, description: EntityDescription) -> None:
        """Bind the description and the device."""
        super().__init__(coordinator)
        self.entity_description = description
        # Descriptions of status-like entities say so themselves.
        self.available_offline = getattr(description, "available_offline", self.available_offline)
        client = coordinator.client
        info = client.info
        self._attr_unique_id = f"{info.unique_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, info.unique_id)},
            manufacturer=client.descriptor.manufacturer,
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
            self.capability_attributes,  # a select's options
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
