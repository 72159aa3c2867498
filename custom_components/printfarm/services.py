"""Actions registered once for the whole integration."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from .const import CONF_KIND, DOMAIN, KIND_ADDON, KIND_FARM
from .coordinator import PrintfarmConfigEntry
from .helpers import translate_error, translated
from .printers import PrinterError, Reason
from .printers.limits import MAX_PATH_LENGTH

SERVICE_SEND_GCODE = "send_gcode"
ATTR_GCODE = "gcode"
MAX_GCODE_LENGTH = 10_000

SEND_GCODE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        vol.Required(ATTR_GCODE): vol.All(cv.string, vol.Length(min=1, max=MAX_GCODE_LENGTH)),
    }
)


SERVICE_START_PRINT = "start_print"
ATTR_FILE = "file"

START_PRINT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        vol.Required(ATTR_FILE): vol.All(cv.string, vol.Length(min=1, max=MAX_PATH_LENGTH)),
    }
)


def entries_for_devices(hass: HomeAssistant, device_ids: list[str]) -> list[PrintfarmConfigEntry]:
    """The loaded printer entries of printer devices; a translated error for any other device."""
    # Asked from the entries' side: a device's own list of entries is deprecated
    # from Home Assistant 2026.8 (one entry per device), this works on every release.
    # The farm's and the add-on's entries own no printer.
    registry = dr.async_get(hass)
    owner: dict[str, PrintfarmConfigEntry] = {
        device.id: entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_KIND) not in (KIND_ADDON, KIND_FARM)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
    }
    entries: list[PrintfarmConfigEntry] = []
    for device_id in device_ids:
        entry = owner.get(device_id)
        if entry is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_device",
                translation_placeholders={"device_id": device_id},
            )
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_loaded",
                translation_placeholders={"name": entry.title},
            )
        entries.append(entry)
    return entries


async def _async_send_gcode(call: ServiceCall) -> None:
    for entry in entries_for_devices(call.hass, call.data[ATTR_DEVICE_ID]):
        client = entry.runtime_data.client
        if not client.capabilities.gcode:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="gcode_unsupported",
                translation_placeholders={"name": entry.title},
            )
        try:
            await client.send_gcode(call.data[ATTR_GCODE])
        except PrinterError as err:
            raise translate_error(err, entry.title) from err


async def _async_start_print(call: ServiceCall) -> None:
    """Start one stored file on each chosen printer; every printer is checked first."""
    entries = entries_for_devices(call.hass, call.data[ATTR_DEVICE_ID])
    for entry in entries:
        if not entry.runtime_data.client.capabilities.print_files:
            raise translated(Reason.UNSUPPORTED, entry.title)
    for entry in entries:
        if not entry.runtime_data.data.connected:
            raise translated(Reason.OFFLINE, entry.title)
        try:
            await entry.runtime_data.client.start_print(call.data[ATTR_FILE])
        except PrinterError as err:
            raise translate_error(err, entry.title) from err


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the printfarm actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_SEND_GCODE, _async_send_gcode, schema=SEND_GCODE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_START_PRINT, _async_start_print, schema=START_PRINT_SCHEMA
    )
