"""The detection add-on in scripts/develop: started as a process, connected by the config flow.

It runs the way it runs outside the Supervisor (``python -m ml_addon.printfarm_addon``
with HA_URL and HA_TOKEN), keeps its data in ``.develop/addon/`` and writes
timelapses to the develop Home Assistant's media folder. Its options
(``.develop/addon/options.json``, written once) use a 2 s interval and a short
warm-up so a demo failure (``-- --failure-after 60``) is paused within a minute.
The integration is connected through printfarm's own config flow, "detection
add-on (by URL)"; on later runs the flow finds the same add-on (its identity is
kept) and only updates its address.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import socket
import sys
import time
from typing import Any

import aiohttp

from .api import HaApi
from .flows import FLOW
from .layout import Layout
from .processes import Child

DEMO_OPTIONS: dict[str, Any] = {
    "interval": 2,
    "warmup_frames": 5,
    "notify": "persistent_notification.create",
    "timelapse_keep": 10,
}
HEALTH_TIMEOUT = 120.0


class AddonError(Exception):
    """The add-on did not start or could not be connected."""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def data_dir(layout: Layout) -> Path:
    """The add-on's /data."""
    return layout.base / "addon"


def media_dir(layout: Layout) -> Path:
    """The develop Home Assistant's local media folder."""
    return layout.config / "media"


def addon_log(layout: Layout) -> Path:
    """The add-on's console output."""
    return layout.base / "addon.log"


def addon_env(
    layout: Layout, base_url: str, token: str, ui_port: int, api_port: int
) -> dict[str, str]:
    """The environment of the add-on process (standalone mode)."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("SUPERVISOR_TOKEN", "PYTHONPATH")}
    env.update(
        {
            "HA_URL": base_url,
            "HA_WS_URL": base_url.replace("http", "ws", 1) + "/api/websocket",
            "HA_TOKEN": token,
            "PRINTFARM_DATA": str(data_dir(layout)),
            "PRINTFARM_MEDIA": str(media_dir(layout)),
            "PRINTFARM_UI_PORT": str(ui_port),
            "PRINTFARM_API_PORT": str(api_port),
            "PYTHONUNBUFFERED": "1",
            "MALLOC_ARENA_MAX": "2",  # as in the add-on's Dockerfile
        }
    )
    return env


async def start_addon(layout: Layout, base_url: str, token: str) -> tuple[Child, int, int]:
    """Start the add-on; (child, UI port, API port) once its health endpoint answers."""
    folder = data_dir(layout)
    folder.mkdir(parents=True, exist_ok=True)
    media_dir(layout).mkdir(parents=True, exist_ok=True)
    options = folder / "options.json"
    if not options.exists():
        options.write_text(json.dumps(DEMO_OPTIONS, indent=2), encoding="utf-8")
    ui_port, api_port = free_port(), free_port()
    child = await Child.start(
        "detection add-on",
        [sys.executable, "-m", "ml_addon.printfarm_addon"],
        cwd=layout.repo,
        log=addon_log(layout),
        env=addon_env(layout, base_url, token, ui_port, api_port),
    )
    deadline = time.monotonic() + HEALTH_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while True:
            if not child.running:
                raise AddonError(
                    f"the add-on exited ({child.process.returncode}):\n{child.log_tail()}"
                )
            try:
                async with session.get(f"http://127.0.0.1:{ui_port}/health") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                await child.stop()
                raise AddonError(f"the add-on did not answer in {HEALTH_TIMEOUT:.0f} s")
            await asyncio.sleep(0.5)
    return child, ui_port, api_port


def api_key(layout: Layout) -> str:
    """The key the add-on generated (kept in its data folder)."""
    identity = json.loads((data_dir(layout) / "identity.json").read_text(encoding="utf-8"))
    return str(identity["api_key"])


async def connect_addon(api: HaApi, url: str, key: str) -> str:
    """Add (or update) the integration's add-on entry through the config flow; the outcome."""
    menu = await api.post(FLOW, json={"handler": "printfarm", "show_advanced_options": False})
    flow_id = menu["flow_id"]
    form = await api.post(f"{FLOW}/{flow_id}", json={"next_step_id": "addon"})
    if form.get("step_id") != "addon":
        raise AddonError(f"the config flow has no add-on step: {form}")
    result = await api.post(f"{FLOW}/{flow_id}", json={"url": url, "api_key": key})
    if result.get("type") == "create_entry":
        return "added"
    if result.get("type") == "abort" and result.get("reason") == "already_configured":
        return "updated"
    raise AddonError(f"the config flow did not take the add-on: {result.get('errors') or result}")
