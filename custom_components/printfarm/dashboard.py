"""The farm dashboard: a dashboard strategy and a printer card, built from HA's own cards.

printfarm serves one small script (``frontend/printfarm.js``) and loads it into
every frontend. It registers the ``custom:printfarm`` dashboard strategy (listed
by Home Assistant 2026.5+ among the dashboards a user can add) and the
``custom:printfarm-printer-card`` card. Both ask Home Assistant over the
WebSocket for their cards, which this module builds from the registries: farm
counts on top, then per printer its status, progress, time left, camera,
thumbnail, temperatures, failure score and pause/resume/stop. Only Home
Assistant's own cards are used, so nothing else needs installing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, translation
import voluptuous as vol

from .const import DOMAIN, LOGGER
from .farm import FARM_UNIQUE_ID, async_get_farm_hub

FRONTEND_DIR = Path(__file__).parent / "frontend"
SCRIPT = "printfarm.js"
URL_BASE = f"/{DOMAIN}_frontend"
STRATEGY = "printfarm"
CARD = "printfarm-printer-card"

#: A card row: its cards side by side (12 grid columns shared out in a sections view).
type Row = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Names:
    """Card labels in the user's language, from printfarm's own entity translations."""

    strings: dict[str, str]

    def entity(self, platform: str, key: str) -> str:
        """An entity's translated name (the key where there is none)."""
        return self.strings.get(f"component.{DOMAIN}.entity.{platform}.{key}.name", key)


async def async_names(hass: HomeAssistant, language: str | None) -> Names:
    """The translated names for ``language`` (Home Assistant's own language by default)."""
    strings = await translation.async_get_translations(
        hass, language or hass.config.language, "entity", {DOMAIN}
    )
    return Names(dict(strings))


def _entities_by_key(hass: HomeAssistant, entry_id: str) -> dict[tuple[str, str], str]:
    """(domain, translation key) -> entity id, for an entry's enabled entities that exist."""
    found: dict[tuple[str, str], str] = {}
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id):
        if entity.disabled_by is not None or entity.translation_key is None:
            continue
        found[(entity.domain, entity.translation_key)] = entity.entity_id
    return found


def _tile(entity_id: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "tile", "entity": entity_id}
    if name:
        card["name"] = name
    card.update(extra)
    return card


def _press(entity_id: str, name: str, confirm: str | None = None) -> dict[str, Any]:
    """A button card that presses a button entity (with a confirmation for stop)."""
    action: dict[str, Any] = {
        "action": "perform-action",
        "perform_action": "button.press",
        "target": {"entity_id": entity_id},
    }
    if confirm:
        action["confirmation"] = {"text": confirm}
    return {
        "type": "button",
        "entity": entity_id,
        "name": name,
        "show_state": False,
        "icon_height": "40px",
        "tap_action": action,
        "hold_action": {"action": "more-info"},
    }


def printer_rows(hass: HomeAssistant, entry_id: str, names: Names) -> list[Row]:
    """One printer's cards, row by row."""
    have = _entities_by_key(hass, entry_id)

    def tile(platform: str, key: str) -> dict[str, Any] | None:
        entity_id = have.get((platform, key))
        return None if entity_id is None else _tile(entity_id, names.entity(platform, key))

    def row(*cards: dict[str, Any] | None) -> Row:
        return [card for card in cards if card is not None]

    rows: list[Row] = []
    if camera := have.get(("camera", "camera")):
        rows.append(
            [
                {
                    "type": "picture-entity",
                    "entity": camera,
                    "camera_view": "auto",
                    "show_name": False,
                    "show_state": False,
                }
            ]
        )
    rows += [
        row(tile("sensor", "status"), tile("sensor", "progress")),
        row(tile("sensor", "remaining_time"), tile("sensor", "estimated_finish")),
        row(tile("sensor", "job_name")),
    ]
    thumbnail = have.get(("image", "thumbnail"))
    rows.append(
        row(
            None
            if thumbnail is None
            else {
                "type": "picture-entity",
                "entity": thumbnail,
                "show_name": False,
                "show_state": False,
            },
            tile("sensor", "failure_score"),
        )
    )
    rows += [
        row(tile("sensor", "nozzle_temperature"), tile("sensor", "bed_temperature")),
        row(tile("sensor", "chamber_temperature")),
    ]
    buttons: Row = []
    for key in ("pause", "resume", "stop"):
        if entity_id := have.get(("button", key)):
            confirm = None
            if key == "stop":
                confirm = names.entity("button", "stop") + "?"
            buttons.append(_press(entity_id, names.entity("button", key), confirm))
    rows.append(buttons)
    return [r for r in rows if r]


def farm_rows(hass: HomeAssistant, names: Names) -> list[Row]:
    """The farm's counts, next finish, totals and all-printer buttons."""
    registry = er.async_get(hass)

    def entity(platform: str, key: str) -> str | None:
        return registry.async_get_entity_id(platform, DOMAIN, f"{FARM_UNIQUE_ID}_{key}")

    def tiles(*keys: str) -> Row:
        return [
            _tile(entity_id, names.entity("sensor", key))
            for key in keys
            if (entity_id := entity("sensor", key))
        ]

    buttons: Row = []
    for key in ("pause_all", "resume_all", "stop_all"):
        if entity_id := entity("button", key):
            confirm = names.entity("button", key) + "?" if key == "stop_all" else None
            buttons.append(_press(entity_id, names.entity("button", key), confirm))
    # Tiles two by two: a tile needs half a section's width to show its name.
    rows = [
        tiles("printers_printing", "printers_paused"),
        tiles("printers_idle", "printers_error"),
        tiles("printers_offline", "printers"),
        tiles("next_printer", "next_finish"),
        tiles("utilisation", "print_time_today"),
        tiles("failures_today"),
        buttons,
    ]
    return [r for r in rows if r]


def section(title: str, rows: list[Row]) -> dict[str, Any]:
    """A sections-view section: a heading, then the rows sharing 12 columns."""
    cards: list[dict[str, Any]] = [{"type": "heading", "heading": title}]
    for row in rows:
        width = 12 // len(row)
        cards.extend({**card, "grid_options": {"columns": width}} for card in row)
    return {"type": "grid", "cards": cards}


def stack(rows: list[Row]) -> dict[str, Any]:
    """The same rows for a single card: a vertical stack of horizontal stacks."""
    return {
        "type": "vertical-stack",
        "cards": [
            row[0] if len(row) == 1 else {"type": "horizontal-stack", "cards": row} for row in rows
        ],
    }


def _printers(hass: HomeAssistant) -> list[tuple[str, str, str | None]]:
    """(entry id, name, device id) of every loaded printer, by name."""
    hub = async_get_farm_hub(hass)
    return [(p.entry_id, p.name, p.device_id) for p in hub.snapshot()]


async def async_dashboard(hass: HomeAssistant, language: str | None) -> dict[str, Any]:
    """The whole farm dashboard: one sections view, the farm first, then every printer."""
    names = await async_names(hass, language)
    device_name = await translation.async_get_translations(
        hass, language or hass.config.language, "device", {DOMAIN}
    )
    farm_title = device_name.get(f"component.{DOMAIN}.device.farm.name", "Print farm")
    sections = [section(farm_title, farm_rows(hass, names))]
    sections += [
        section(name, printer_rows(hass, entry_id, names))
        for entry_id, name, _device in _printers(hass)
    ]
    return {
        "title": farm_title,
        "views": [
            {
                "title": farm_title,
                "path": "farm",
                "icon": "mdi:printer-3d",
                "type": "sections",
                "max_columns": 4,
                "sections": sections,
            }
        ],
    }


@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/dashboard", vol.Optional("language"): str}
)
@websocket_api.async_response
async def _ws_dashboard(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    connection.send_result(msg["id"], await async_dashboard(hass, msg.get("language")))


@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/printer_card",
        vol.Exclusive("device_id", "printer"): str,
        vol.Exclusive("name", "printer"): str,
        vol.Optional("language"): str,
    }
)
@websocket_api.async_response
async def _ws_printer_card(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    printers = _printers(hass)
    wanted = msg.get("device_id")
    name = str(msg.get("name", "")).casefold()
    found = [
        p
        for p in printers
        if (wanted and p[2] == wanted) or (name and p[1].casefold() == name) or not (wanted or name)
    ]
    if not found:
        connection.send_error(msg["id"], "not_found", "No printfarm printer matches this card")
        return
    entry_id, printer_name, device_id = found[0]
    names = await async_names(hass, msg.get("language"))
    rows = printer_rows(hass, entry_id, names)
    connection.send_result(
        msg["id"],
        {
            "name": printer_name,
            "device_id": device_id,
            "card": stack([[{"type": "heading", "heading": printer_name}], *rows]),
        },
    )


def script_version() -> str:
    """Changes whenever the script does, so browsers fetch the new one."""
    return str(int((FRONTEND_DIR / SCRIPT).stat().st_mtime))


async def async_setup_dashboard(hass: HomeAssistant) -> None:
    """WebSocket commands now; the script as soon as HTTP and the frontend are there."""
    websocket_api.async_register_command(hass, _ws_dashboard)
    websocket_api.async_register_command(hass, _ws_printer_card)
    done: set[str] = set()

    async def serve() -> None:
        if "static" not in done and getattr(hass, "http", None) is not None:
            done.add("static")
            try:
                await hass.http.async_register_static_paths(
                    [StaticPathConfig(URL_BASE, str(FRONTEND_DIR), cache_headers=False)]
                )
            except RuntimeError as err:
                # Home Assistant's own server accepts routes at any time; a bare aiohttp
                # server that already runs (some test setups) does not. The printers
                # matter more than the dashboard script: carry on without it.
                LOGGER.warning("The farm dashboard script cannot be served: %s", err)
                return
        if "script" not in done and "frontend" in hass.config.components:
            done.add("script")
            version = await hass.async_add_executor_job(script_version)
            add_extra_js_url(hass, f"{URL_BASE}/{SCRIPT}?v={version}")
            LOGGER.debug("Serving the farm dashboard script at %s", URL_BASE)

    @callback
    def loaded(event: Event[Any]) -> None:
        if event.data.get("component") in ("http", "frontend"):
            hass.async_create_task(serve(), f"{DOMAIN} dashboard script")

    hass.bus.async_listen(EVENT_COMPONENT_LOADED, loaded)
    await serve()
