"""Buttons: pause, resume, stop; start the chosen file, print the last job again, refresh
the file list; emergency stop and firmware restart for Klipper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .detection import DetectionEntity, PrinterLink, async_add_detection_entities
from .entity import ExistsFn, PrintfarmEntity, always, async_add_when_present
from .farm import FarmConfigEntry, is_farm_entry
from .farm_entities import async_add_farm_buttons
from .helpers import printer_action, translated
from .printers import Reason

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmButtonDescription(ButtonEntityDescription):
    """A button that runs one client command."""

    press_fn: Callable[[PrintfarmCoordinator], Awaitable[None]]
    exists_fn: ExistsFn = always


async def _start_chosen(coordinator: PrintfarmCoordinator) -> None:
    """Print the file chosen in the file select."""
    path = coordinator.files.selected
    if path is None:
        raise translated(Reason.NO_FILE, coordinator.config_entry.title)
    await coordinator.client.start_print(path)


BUTTONS: tuple[PrintfarmButtonDescription, ...] = (
    PrintfarmButtonDescription(
        key="pause", translation_key="pause", press_fn=lambda c: c.client.pause()
    ),
    PrintfarmButtonDescription(
        key="resume", translation_key="resume", press_fn=lambda c: c.client.resume()
    ),
    PrintfarmButtonDescription(
        key="stop", translation_key="stop", press_fn=lambda c: c.client.stop()
    ),
    PrintfarmButtonDescription(
        key="start_print",
        translation_key="start_print",
        press_fn=_start_chosen,
        exists_fn=lambda c, _s: c.print_files,
    ),
    PrintfarmButtonDescription(
        key="reprint",
        translation_key="reprint",
        press_fn=lambda c: c.client.reprint(),
        exists_fn=lambda c, _s: c.reprint,
    ),
    PrintfarmButtonDescription(
        key="refresh_files",
        translation_key="refresh_files",
        press_fn=lambda c: c.files.async_refresh(),
        exists_fn=lambda c, _s: c.print_files,
    ),
    PrintfarmButtonDescription(
        key="emergency_stop",
        translation_key="emergency_stop",
        press_fn=lambda c: c.client.emergency_stop(),
        exists_fn=lambda c, _s: c.emergency_stop,
    ),
    PrintfarmButtonDescription(
        key="firmware_restart",
        translation_key="firmware_restart",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda c: c.client.firmware_restart(),
        exists_fn=lambda c, _s: c.firmware_restart,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the buttons this printer supports."""
    if is_farm_entry(entry):
        async_add_farm_buttons(cast(FarmConfigEntry, entry), async_add_entities)
        return
    coordinator = entry.runtime_data
    async_add_when_present(
        entry,
        async_add_entities,
        BUTTONS,
        lambda description: PrintfarmButton(coordinator, description),
    )
    async_add_detection_entities(
        hass,
        entry,
        coordinator.client.info.unique_id,
        async_add_entities,
        lambda link: [FalseAlarmButton(link)],
    )


class PrintfarmButton(PrintfarmEntity, ButtonEntity):
    """A button bound to one client command."""

    entity_description: PrintfarmButtonDescription

    @printer_action
    async def async_press(self) -> None:
        """Run the command; returns once the printer confirms it."""
        await self.entity_description.press_fn(self.coordinator)


FALSE_ALARM = ButtonEntityDescription(key="false_alarm", translation_key="false_alarm")


class FalseAlarmButton(DetectionEntity, ButtonEntity):
    """Tell the detection add-on that its latest detection on this printer was wrong.

    The frame is stored as feedback: the camera's correction learns from it and
    the current print's reference moves up to what the camera shows now.
    """

    def __init__(self, link: PrinterLink) -> None:
        """On the printer's device."""
        super().__init__(link, FALSE_ALARM)

    async def async_press(self) -> None:
        """Mark the latest detection as a false alarm."""
        printer = self.printer
        if printer is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="addon_missing")
        if printer.detection is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_detection")
        detection_id = printer.detection.id
        await self.link.hub.async_call(
            lambda c: c.feedback(printer.key, "false_alarm", detection_id)
        )
