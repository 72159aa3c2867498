"""Switch: the detection add-on watching this printer, on or off."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import PrintfarmConfigEntry
from .detection import DetectionEntity, PrinterLink, async_add_detection_entities

PARALLEL_UPDATES = 1

DETECTION_ENABLED = SwitchEntityDescription(
    key="detection_enabled",
    translation_key="detection_enabled",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The switch appears once the detection add-on watches this printer."""
    async_add_detection_entities(
        hass,
        entry,
        entry.runtime_data.client.info.unique_id,
        async_add_entities,
        lambda link: [DetectionSwitch(link)],
    )


class DetectionSwitch(DetectionEntity, SwitchEntity):
    """Whether the add-on analyses this printer's camera while it prints."""

    def __init__(self, link: PrinterLink) -> None:
        """On the printer's device."""
        super().__init__(link, DETECTION_ENABLED)

    @property
    def is_on(self) -> bool | None:
        """Detection on."""
        printer = self.printer
        return None if printer is None else printer.enabled

    async def _set(self, *, enabled: bool) -> None:
        printer = self.printer
        if printer is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="addon_missing")
        await self.link.hub.async_call(lambda c: c.configure(printer.key, enabled=enabled))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Watch the printer."""
        await self._set(enabled=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop watching the printer."""
        await self._set(enabled=False)
