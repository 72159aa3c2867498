"""Start the real Home Assistant and wait until it serves and runs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import os
import sys
import time

import aiohttp

from .api import HaApi, HaApiError
from .layout import Layout
from .processes import Child


class HomeAssistantError(Exception):
    """Home Assistant did not come up."""


def hass_argv(layout: Layout) -> list[str]:
    """``python -m homeassistant``: no runtime pip installs (see requirements.py)."""
    return [
        sys.executable,
        "-m",
        "homeassistant",
        "--config",
        str(layout.config),
        "--skip-pip",
        "--log-no-color",
    ]


def hass_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Home Assistant: no PYTHONPATH tricks, no Supervisor; ``extra`` on top."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SUPERVISOR")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


async def start_home_assistant(layout: Layout, env: Mapping[str, str] | None = None) -> Child:
    """Start it in its config dir (so the repo is not on its import path); ``env`` is added."""
    return await Child.start(
        "home assistant",
        hass_argv(layout),
        cwd=layout.config,
        log=layout.hass_log,
        env=hass_env(env),
    )


async def wait_serving(api: HaApi, child: Child, timeout: float) -> None:
    """Poll ``GET /manifest.json`` (the frontend's, no auth) until it answers.

    (``/api/onboarding`` is no probe: Home Assistant serves it only until
    onboarding is complete.)
    """
    deadline = time.monotonic() + timeout
    while True:
        if not child.running:
            raise HomeAssistantError(
                f"Home Assistant exited ({child.process.returncode}):\n{child.log_tail()}"
            )
        try:
            await api.get("/manifest.json", auth=False)
        except (aiohttp.ClientError, HaApiError, TimeoutError):
            pass
        else:
            return
        if time.monotonic() >= deadline:
            raise HomeAssistantError(
                f"Home Assistant did not answer on {api.base_url} in {timeout:.0f} s:\n"
                f"{child.log_tail()}"
            )
        await asyncio.sleep(0.5)


async def wait_running(api: HaApi, child: Child, timeout: float) -> None:
    """Poll ``GET /api/config`` (token) until Home Assistant's state is RUNNING."""
    deadline = time.monotonic() + timeout
    while True:
        if not child.running:
            raise HomeAssistantError(
                f"Home Assistant exited ({child.process.returncode}):\n{child.log_tail()}"
            )
        config = await api.get("/api/config")
        if config.get("state") == "RUNNING":
            return
        if time.monotonic() >= deadline:
            raise HomeAssistantError(
                f"Home Assistant is still {config.get('state')} after {timeout:.0f} s"
            )
        await asyncio.sleep(0.5)
