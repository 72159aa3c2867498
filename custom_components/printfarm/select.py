"""Selects: the speed preset of printers with named speed levels, and the file to print."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import ExistsFn, PrintfarmEntity, async_add_when_present
from .helpers import printer_action

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmSelectDescription(SelectEntityDescription):
    """A choice among the printer's named settings."""

    exists_fn: ExistsFn


SPEED_PRESET = PrintfarmSelectDescription(
    key="speed_preset",
    translation_key="speed_preset",
    exists_fn=lambda c, _s: bool(c.speed_presets),
)
PRINT_FILE = PrintfarmSelectDescription(
    key="print_file",
    translation_key="print_file",
    exists_fn=lambda c, _s: c.print_files,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the speed preset select and the file select where the printer has them."""
    coordinator = entry.runtime_data
    async_add_when_present(
        entry, async_add_entities, (SPEED_PRESET,), lambda _d: SpeedPresetSelect(coordinator)
    )
    async_add_when_present(
        entry, async_add_entities, (PRINT_FILE,), lambda _d: PrintFileSelect(coordinator)
    )


class SpeedPresetSelect(PrintfarmEntity, SelectEntity):
    """Named speed level (silent, standard, sport, ludicrous ...)."""

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Options come from the printer's capabilities."""
        super().__init__(coordinator, SPEED_PRESET)
        self._attr_options = list(coordinator.client.capabilities.speed_presets)

    @property
    def current_option(self) -> str | None:
        """The active preset."""
        preset = self.coordinator.data.speed_preset
        return preset if preset in self._attr_options else None

    @printer_action
    async def async_select_option(self, option: str) -> None:
        """Switch preset."""
        await self.coordinator.client.set_speed_preset(option)


class PrintFileSelect(PrintfarmEntity, SelectEntity):
    """The file the start button prints; its options are the printer's files, newest first."""

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Options come from the file list the coordinator last read."""
        super().__init__(coordinator, PRINT_FILE)

    @property
    def options(self) -> list[str]:
        """The paths of the printer's files."""
        return self.coordinator.files.paths

    @property
    def current_option(self) -> str | None:
        """The chosen file, while the printer still lists it."""
        selected = self.coordinator.files.selected
        return selected if selected in self.options else None

    async def async_select_option(self, option: str) -> None:
        """Choose the file (nothing is sent to the printer)."""
        if option not in self.options:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="file_not_found",
                translation_placeholders={"name": self.coordinator.config_entry.title},
            )
        self.coordinator.files.select(option)
