"""The farm dashboard's cards over the WebSocket, and the script printfarm serves.

What these cards look like in a real browser (and that pressing pause there
pauses a printer) is tests/devtools/test_dashboard_browser.py.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.dashboard import SCRIPT, URL_BASE
from simulator.base import SimulatedPrinter

from .conftest import add_printer_entry, printer_device, start_simulator


@pytest.fixture
async def printers(hass: HomeAssistant) -> AsyncGenerator[list[MockConfigEntry]]:
    # HTTP first: printfarm adds its script's route when it loads.
    for domain in ("http", "websocket_api"):
        assert await async_setup_component(hass, domain, {})
    sims: list[SimulatedPrinter] = []
    entries: list[MockConfigEntry] = []
    for kind in ("bambu", "octoprint"):
        try:
            sim, line = await start_simulator(kind)
        except (ImportError, RuntimeError, OSError) as err:
            pytest.fail(f"{kind} simulator did not start: {err}")
        sims.append(sim)
        entries.append(await add_printer_entry(hass, line))
    await hass.async_block_till_done()
    yield entries
    for entry in entries:
        await hass.config_entries.async_unload(entry.entry_id)
    for sim in sims:
        await sim.stop()


def cards_of(section: dict[str, Any]) -> list[dict[str, Any]]:
    return list(section["cards"])


def entity_ids(card: Any) -> list[str]:
    """Every entity id a card refers to, nested cards included."""
    found: list[str] = []
    if isinstance(card, dict):
        for key, value in card.items():
            if key in ("entity", "entity_id") and isinstance(value, str):
                found.append(value)
            else:
                found += entity_ids(value)
    elif isinstance(card, list):
        for item in card:
            found += entity_ids(item)
    return found


async def test_dashboard_has_the_farm_then_every_printer(
    hass: HomeAssistant, printers: list[MockConfigEntry], hass_ws_client: Any
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "printfarm/dashboard", "language": "en"})
    answer = await client.receive_json()
    assert answer["success"], answer
    config = answer["result"]
    assert config["title"] == "Print farm"
    (view,) = config["views"]
    assert view["type"] == "sections"
    farm, *printer_sections = view["sections"]

    assert cards_of(farm)[0] == {"type": "heading", "heading": "Print farm"}
    farm_tiles = {c["name"]: c["entity"] for c in cards_of(farm) if c["type"] == "tile"}
    assert list(farm_tiles)[:3] == ["Printing", "Paused", "Idle"]
    assert farm_tiles["Printing"] == "sensor.print_farm_printing"
    assert {"Next to finish", "Next finish", "Utilisation", "Failures caught today"} <= set(
        farm_tiles
    )
    farm_buttons = [c for c in cards_of(farm) if c["type"] == "button"]
    assert [b["name"] for b in farm_buttons] == ["Pause all", "Resume all", "Stop all"]
    assert "confirmation" in farm_buttons[2]["tap_action"]

    names = sorted((str(printer_device(hass, e).name) for e in printers), key=str.casefold)
    assert [cards_of(s)[0]["heading"] for s in printer_sections] == names
    for section in printer_sections:
        cards = cards_of(section)
        kinds = [c["type"] for c in cards]
        assert kinds[1] == "picture-entity"  # the camera first, full width
        assert cards[1]["entity"].startswith("camera.")
        assert cards[1]["grid_options"] == {"columns": 12}
        tiles = {c["name"] for c in cards if c["type"] == "tile"}
        assert {"Status", "Progress", "Remaining time", "Nozzle temperature"} <= tiles
        buttons = [c for c in cards if c["type"] == "button"]
        assert [b["name"] for b in buttons] == ["Pause", "Resume", "Stop"]
        pause = buttons[0]["tap_action"]
        assert pause["action"] == "perform-action"
        assert pause["perform_action"] == "button.press"
        assert pause["target"]["entity_id"].startswith("button.")
        assert "confirmation" in buttons[2]["tap_action"]
        assert all(c["grid_options"]["columns"] == 4 for c in buttons)

    # Every entity the dashboard shows exists.
    for entity_id in entity_ids(config):
        assert hass.states.get(entity_id) is not None, entity_id


async def test_dashboard_speaks_the_users_language(
    hass: HomeAssistant, printers: list[MockConfigEntry], hass_ws_client: Any
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "printfarm/dashboard", "language": "de"})
    config = (await client.receive_json())["result"]
    farm = config["views"][0]["sections"][0]
    assert config["title"] == "Druckfarm"
    assert [c["name"] for c in cards_of(farm) if c["type"] == "button"] == [
        "Alle pausieren",
        "Alle fortsetzen",
        "Alle abbrechen",
    ]


async def test_printer_card_by_device_or_name(
    hass: HomeAssistant, printers: list[MockConfigEntry], hass_ws_client: Any
) -> None:
    client = await hass_ws_client(hass)
    device = printer_device(hass, printers[1])
    await client.send_json_auto_id({"type": "printfarm/printer_card", "device_id": device.id})
    answer = await client.receive_json()
    assert answer["success"], answer
    card = answer["result"]["card"]
    assert card["type"] == "vertical-stack"
    assert card["cards"][0] == {"type": "heading", "heading": device.name}
    assert any(c["type"] == "horizontal-stack" for c in card["cards"])
    assert "grid_options" not in str(card)

    await client.send_json_auto_id(
        {"type": "printfarm/printer_card", "name": str(device.name).upper()}
    )
    assert (await client.receive_json())["result"]["device_id"] == device.id

    await client.send_json_auto_id({"type": "printfarm/printer_card", "name": "Ultimaker"})
    answer = await client.receive_json()
    assert not answer["success"]
    assert answer["error"]["code"] == "not_found"


async def test_the_script_is_served(
    hass: HomeAssistant, printers: list[MockConfigEntry], hass_client_no_auth: Any
) -> None:
    client = await hass_client_no_auth()
    response = await client.get(f"{URL_BASE}/{SCRIPT}")
    assert response.status == 200
    text = await response.text()
    assert "customElements.define(STRATEGY, PrintfarmDashboardStrategy)" in text
    assert '"ll-strategy-dashboard-printfarm"' in text
    assert 'strategyType: "dashboard"' in text
    # Nothing else of the integration's folder is reachable.
    assert (await client.get(f"{URL_BASE}/../manifest.json")).status == 404
    assert (await client.get(f"{URL_BASE}/dashboard.py")).status == 404
