"""The farm dashboard in scripts/develop: added the way a user adds it on Home Assistant 2025.4.

A new dashboard whose whole configuration is ``strategy: type: custom:printfarm``
(Home Assistant 2026.5+ also offers it in the "Add dashboard" dialog). Idempotent.
"""

from __future__ import annotations

from typing import Any

from .api import HaApi

URL_PATH = "printfarm-farm"
TITLE = "Print farm"
STRATEGY_CONFIG: dict[str, Any] = {"strategy": {"type": "custom:printfarm"}}


async def ensure_farm_dashboard(api: HaApi, url_path: str = URL_PATH) -> str:
    """Create the dashboard if it is missing and give it the strategy; its path (/<url_path>)."""
    dashboards = await api.ws_command({"type": "lovelace/dashboards/list"})
    if not any(d.get("url_path") == url_path for d in dashboards):
        await api.ws_command(
            {
                "type": "lovelace/dashboards/create",
                "url_path": url_path,
                "title": TITLE,
                "icon": "mdi:printer-3d",
                "show_in_sidebar": True,
                "require_admin": False,
                "mode": "storage",
            }
        )
    await api.ws_command(
        {"type": "lovelace/config/save", "url_path": url_path, "config": STRATEGY_CONFIG}
    )
    return f"/{url_path}"


async def save_card_dashboard(api: HaApi, url_path: str, cards: list[dict[str, Any]]) -> str:
    """A dashboard of the user's own with the given cards (for the printer card)."""
    dashboards = await api.ws_command({"type": "lovelace/dashboards/list"})
    if not any(d.get("url_path") == url_path for d in dashboards):
        await api.ws_command(
            {
                "type": "lovelace/dashboards/create",
                "url_path": url_path,
                "title": "My printers",
                "show_in_sidebar": False,
                "require_admin": False,
                "mode": "storage",
            }
        )
    config = {"views": [{"title": "Printers", "path": "printers", "cards": cards}]}
    await api.ws_command({"type": "lovelace/config/save", "url_path": url_path, "config": config})
    return f"/{url_path}/printers"
