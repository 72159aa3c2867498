"""Starting prints from Home Assistant: the file select, the buttons, printfarm.start_print.

Each runs against a simulated printer through a loaded config entry, the way
a user meets it: the file list is read on connect, a refresh reads uploads,
the start button prints the chosen file, the print-again button the last
job, and every refusal is a translated error (no file chosen, busy, a file
the printer does not have, a kind that cannot start stored files).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.printers import PrintStatus
from custom_components.printfarm.services import SERVICE_START_PRINT
from simulator.base import SimulatedPrinter
from simulator.job import ACTIVE

from .conftest import add_printer_entry, printer_device, start_simulator

Loaded = tuple[SimulatedPrinter, MockConfigEntry]
#: Where each kind's printer keeps the demo file its simulator stores.
DEMO = {
    "moonraker": "phone_stand.gcode",
    "octoprint": "phone_stand.gcode",
    "elegoo": "/local/phone_stand.gcode",
    "prusalink": "/usb/PHONES~1.GCO",  # Buddy names files by their 8.3 name
}


@pytest.fixture
async def loaded(hass: HomeAssistant, request: pytest.FixtureRequest) -> AsyncGenerator[Loaded]:
    """An idle simulator of the kind ``request.param`` and its loaded entry."""
    sim, line = await start_simulator(request.param, start_printing=False)
    entry = await add_printer_entry(hass, line)
    yield sim, entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await sim.stop()


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """Entity ids by translation key."""
    return {
        str(entity.translation_key): entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }


async def press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call("button", "press", {"entity_id": entity_id}, blocking=True)


async def choose(hass: HomeAssistant, entity_id: str, option: str) -> None:
    await hass.services.async_call(
        "select", "select_option", {"entity_id": entity_id, "option": option}, blocking=True
    )


async def start(hass: HomeAssistant, entry: MockConfigEntry, file: str) -> None:
    device_id = printer_device(hass, entry).id
    await hass.services.async_call(
        DOMAIN, SERVICE_START_PRINT, {"device_id": device_id, "file": file}, blocking=True
    )


async def files_listed(hass: HomeAssistant, select: str) -> list[str]:
    """The select's options once the file list read on connect (in the background) arrived."""
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get(select)
    assert state is not None
    return list(state.attributes["options"])


@pytest.mark.parametrize("loaded", ["moonraker", "octoprint", "elegoo", "prusalink"], indirect=True)
async def test_choose_start_refuse_busy_and_print_again(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    sim, entry = loaded
    ids = entity_ids(hass, entry)
    kind = entry.data["kind"]
    demo = DEMO[kind]
    assert {"print_file", "start_print", "reprint", "refresh_files"} <= ids.keys()
    assert demo in await files_listed(hass, ids["print_file"])  # read on connect

    # nothing chosen yet: a translated validation error, nothing sent
    with pytest.raises(ServiceValidationError) as err:
        await press(hass, ids["start_print"])
    assert err.value.translation_key == "no_file"
    assert sim.job.tick().phase not in ACTIVE

    await choose(hass, ids["print_file"], demo)
    chosen = hass.states.get(ids["print_file"])
    assert chosen is not None
    assert chosen.state == demo
    await press(hass, ids["start_print"])
    client = entry.runtime_data.client
    assert client.state.status in (PrintStatus.PREPARING, PrintStatus.PRINTING)
    assert sim.job.file == "phone_stand.gcode"

    with pytest.raises(HomeAssistantError) as busy:
        await press(hass, ids["start_print"])
    assert busy.value.translation_key == "busy"
    assert busy.value.translation_placeholders == {"name": entry.title}

    await client.stop()
    await press(hass, ids["reprint"])
    assert client.state.status in (PrintStatus.PREPARING, PrintStatus.PRINTING)
    await client.stop()


@pytest.mark.parametrize("loaded", ["moonraker"], indirect=True)
async def test_refresh_reads_an_upload_and_the_action_starts_it(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    sim, entry = loaded
    ids = entity_ids(hass, entry)
    assert "phone_stand.gcode" in await files_listed(hass, ids["print_file"])
    from simulator.moonraker.files import scan_upload

    sim.files["new.gcode"] = scan_upload("new.gcode", b"G28\n")  # type: ignore[attr-defined]
    state = hass.states.get(ids["print_file"])
    assert state is not None
    assert "new.gcode" not in state.attributes["options"]
    await press(hass, ids["refresh_files"])
    state = hass.states.get(ids["print_file"])
    assert state is not None
    assert state.attributes["options"][0] == "new.gcode"  # newest first

    with pytest.raises(HomeAssistantError) as err:
        await start(hass, entry, "gone.gcode")
    assert err.value.translation_key == "file_not_found"
    await start(hass, entry, "new.gcode")
    assert entry.runtime_data.client.state.job == "new.gcode"
    assert sim.job.file == "new.gcode"


@pytest.mark.parametrize("loaded", ["bambu"], indirect=True)
async def test_kinds_that_cannot_start_files(hass: HomeAssistant, loaded: Loaded) -> None:
    _sim, entry = loaded
    ids = entity_ids(hass, entry)
    assert not {"print_file", "start_print", "reprint", "refresh_files"} & ids.keys()
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, entry, "benchy.gcode")
    assert err.value.translation_key == "unsupported"
    assert err.value.translation_placeholders == {"name": entry.title}


@pytest.mark.parametrize("loaded", ["moonraker"], indirect=True)
async def test_the_list_is_read_again_after_a_reconnect(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    sim, entry = loaded
    ids = entity_ids(hass, entry)
    assert "while_away.gcode" not in await files_listed(hass, ids["print_file"])
    client = entry.runtime_data.client
    client.backoff.initial = 0.05
    client.backoff.jitter = 0
    from simulator.moonraker.files import scan_upload

    sim.files["while_away.gcode"] = scan_upload("while_away.gcode", b"G28\n")  # type: ignore[attr-defined]
    await sim.drop_connections()  # type: ignore[attr-defined]
    await client.wait_for_state(lambda s: not s.connected, 10)
    await client.wait_for_state(lambda s: s.connected, 10)
    assert "while_away.gcode" in await files_listed(hass, ids["print_file"])
