"""printfarm: every 3D printer of a farm in Home Assistant.

The protocol clients live in ``printers/`` (no Home Assistant imports); this
layer wires one client and one push coordinator to each config entry.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .assist import async_setup_assist
from .client import async_create_client
from .compat import OPTIONS_FLOW_RELOADS
from .const import DOMAIN, PLATFORMS
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .dashboard import async_setup_dashboard
from .detection import (
    DetectionConfigEntry,
    async_setup_addon_entry,
    async_unload_addon_entry,
    is_addon_entry,
)
from .discovery import async_setup_discovery
from .farm import (
    FarmConfigEntry,
    async_ensure_farm_entry,
    async_get_farm_hub,
    async_remove_farm_with_last_printer,
    async_setup_farm_entry,
    async_unload_farm_entry,
    is_farm_entry,
    is_printer_entry,
)
from .farm_actions import async_setup_farm_services
from .intents import async_setup_intents
from .issues import async_delete_issues
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Actions, intents, sentences and the dashboard; then printfarm's own discovery."""
    async_setup_services(hass)
    async_setup_farm_services(hass)
    async_setup_intents(hass)
    await async_setup_assist(hass)
    await async_setup_dashboard(hass)
    await async_setup_discovery(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PrintfarmConfigEntry) -> bool:
    """Connect to the printer and create its entities (or connect the detection add-on)."""
    if is_addon_entry(entry):
        return await async_setup_addon_entry(hass, cast(DetectionConfigEntry, entry))
    if is_farm_entry(entry):
        return await async_setup_farm_entry(hass, cast(FarmConfigEntry, entry))
    client = async_create_client(hass, entry.data, entry.options)
    coordinator = PrintfarmCoordinator(hass, entry, client)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await client.close()
        raise
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if not OPTIONS_FLOW_RELOADS:
        entry.async_on_unload(entry.add_update_listener(_reload_on_new_options(entry)))
    # The printer joins the farm; the farm's own entry appears with the first printer.
    entry.async_on_unload(async_get_farm_hub(hass).add_printer(entry))
    async_ensure_farm_entry(hass)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PrintfarmConfigEntry) -> bool:
    """Remove the entities and close every connection."""
    if is_addon_entry(entry):
        return await async_unload_addon_entry(hass, cast(DetectionConfigEntry, entry))
    if is_farm_entry(entry):
        return await async_unload_farm_entry(hass, cast(FarmConfigEntry, entry))
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_shutdown()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: PrintfarmConfigEntry) -> None:
    """Leave no repair issue behind; the farm leaves with the last printer."""
    async_delete_issues(hass, entry.entry_id)
    if is_printer_entry(entry):
        async_remove_farm_with_last_printer(hass, entry.entry_id)


def _reload_on_new_options(
    loaded: PrintfarmConfigEntry,
) -> Callable[[HomeAssistant, PrintfarmConfigEntry], Coroutine[Any, Any, None]]:
    """Before Home Assistant 2025.8: options change which entities exist, so reload.

    Only options: a flow that changes the entry's data (reauth, reconfigure,
    rediscovery) reloads it itself, and a second reload here would race it.
    """
    options = dict(loaded.options)

    async def reload(hass: HomeAssistant, entry: PrintfarmConfigEntry) -> None:
        if dict(entry.options) != options:
            await hass.config_entries.async_reload(entry.entry_id)

    return reload
