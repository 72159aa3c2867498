"""printfarm.send_gcode: validation, unknown and unloaded printers, printer failures."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.printers import PrinterCommandError
from custom_components.printfarm.services import MAX_GCODE_LENGTH, SERVICE_SEND_GCODE
from simulator.base import SimulatedPrinter

from .conftest import printer_device

pytestmark = pytest.mark.parametrize("kind", ["moonraker"])


def _device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    return printer_device(hass, entry).id


async def _send(hass: HomeAssistant, device_id: str | list[str], gcode: str) -> None:
    await hass.services.async_call(
        DOMAIN, SERVICE_SEND_GCODE, {"device_id": device_id, "gcode": gcode}, blocking=True
    )


async def test_gcode_reaches_the_printer(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    client = loaded_entry.runtime_data.client
    await _send(hass, [_device_id(hass, loaded_entry)], "M140 S55")
    await client.wait_for_state(lambda s: s.bed_target == 55, 10)


@pytest.mark.parametrize("gcode", ["", "G1 X1\n" * (MAX_GCODE_LENGTH // 6 + 1)])
async def test_empty_or_huge_gcode_is_refused_before_the_printer(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, gcode: str
) -> None:
    with pytest.raises(vol.Invalid):
        await _send(hass, _device_id(hass, loaded_entry), gcode)


async def test_device_of_another_integration_is_unknown(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("demo", "lamp")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await _send(hass, device.id, "G28")
    assert err.value.translation_key == "unknown_device"
    assert err.value.translation_placeholders == {"device_id": device.id}


async def test_unloaded_printer_is_refused(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    device_id = _device_id(hass, loaded_entry)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    # The action is registered once for the integration, not per printer.
    assert hass.services.has_service(DOMAIN, SERVICE_SEND_GCODE)
    with pytest.raises(ServiceValidationError) as err:
        await _send(hass, device_id, "G28")
    assert err.value.translation_key == "entry_not_loaded"
    assert err.value.translation_placeholders == {"name": loaded_entry.title}


async def test_gcode_the_printer_rejects(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await _send(
            hass, _device_id(hass, loaded_entry), "SET_HEATER_TEMPERATURE HEATER=nope TARGET=1"
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "rejected"
    # the printer's own words stay in the log; the message is translated, with the name only
    assert err.value.translation_placeholders == {"name": loaded_entry.title}
    assert isinstance(err.value.__cause__, PrinterCommandError)
    assert "nope" in str(err.value.__cause__)


async def test_offline_printer_fails_the_action(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulated: tuple[SimulatedPrinter, dict[str, Any]],
) -> None:
    sim, _line = simulated
    client = loaded_entry.runtime_data.client
    client.backoff.initial = client.backoff.maximum = 3600  # stay offline for the test
    await sim.stop()
    await client.wait_for_state(lambda s: not s.connected, 20)
    with pytest.raises(HomeAssistantError) as err:
        await _send(hass, _device_id(hass, loaded_entry), "G28")
    assert err.value.translation_key == "offline"
