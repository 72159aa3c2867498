"""Buttons: pause, resume, stop; emergency stop and firmware restart for Klipper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry
from .entity import ExistsFn, PrintfarmEntity, always, async_add_when_present
from .helpers import printer_action
from .printers import PrinterClient

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmButtonDescription(ButtonEntityDescription):
    """A button that runs one client command."""

    press_fn: Callable[[PrinterClient], Awaitable[None]]
    exists_fn: ExistsFn = always


BUTTONS: tuple[PrintfarmButtonDescription, ...] = (
    PrintfarmButtonDescription(key="pause", translation_key="pause", press_fn=lambda c: c.pause()),
    PrintfarmButtonDescription(
        key="resume", translation_key="resume", press_fn=lambda c: c.resume()
    ),
    PrintfarmButtonDescription(key="stop", translation_key="stop", press_fn=lambda c: c.stop()),
    PrintfarmButtonDescription(
        key="emergency_stop",
        translation_key="emergency_stop",
        press_fn=lambda c: c.emergency_stop(),
        exists_fn=lambda c, _s: c.emergency_stop,
    ),
    PrintfarmButtonDescription(
        key="firmware_restart",
        translation_key="firmware_restart",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda c: c.firmware_restart(),
        exists_fn=lambda c, _s: c.firmware_restart,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the buttons this printer supports."""
    coordinator = entry.runtime_data
    async_add_when_present(
        entry,
        async_add_entities,
        BUTTONS,
        lambda description: PrintfarmButton(coordinator, description),
    )


class PrintfarmButton(PrintfarmEntity, ButtonEntity):
    """A button bound to one client command."""

    entity_description: PrintfarmButtonDescription

    @printer_action
    async def async_press(self) -> None:
        """Run the command; returns once the printer confirms it."""
        await self.entity_description.press_fn(self.coordinator.client)
