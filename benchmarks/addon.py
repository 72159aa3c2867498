"""Benchmark section "addon": the detection add-on as scripts/develop runs it, ten cameras.

A real Home Assistant process, ten simulated printers (one Klipper, nine OctoPrint)
added through printfarm's config flow, and the add-on process with its default
10 s interval (warm-up shortened to 3 frames so the run takes minutes, not an
hour). The Klipper printer's camera switches to failure frames after
``FAILURE_AFTER`` seconds. Measured:

* frames per second per core: frames the add-on analysed divided by the CPU
  seconds its process used over the same time (decode, inference, decision,
  history, timelapse, HTTP and WebSocket included);
* resident memory of the add-on process (current and peak);
* seconds from the first failure frame to the printer's status ``paused`` in
  Home Assistant (the simulator switches at a known time; ±1 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
import tempfile
import time
from typing import Any

import aiohttp

from devtools.addon import api_key, connect_addon, start_addon
from devtools.api import HaApi
from devtools.processes import Child

from . import Section
from .stack import cpu_seconds, environment, home_assistant, memory_mb

FAILURE_AFTER = 120.0
INTERVAL = 10
WARMUP = 3
MEASURE_S = 60.0
PAUSE_TIMEOUT = 300.0
MEMORY_GOAL_MB = 200.0


async def _frames(session: aiohttp.ClientSession, ui: str) -> dict[str, dict[str, Any]]:
    async with session.get(f"{ui}/api/v1/printers") as response:
        data = await response.json()
    return {p["name"]: p for p in data["printers"]}


async def _wait_paused(api: HaApi, entity_id: str, timeout: float) -> float:
    async with asyncio.timeout(timeout), api.session.ws_connect(api.websocket_url) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": api.token})
        await ws.receive_json()
        await ws.send_json({"id": 1, "type": "subscribe_entities", "entity_ids": [entity_id]})
        async for message in ws:
            event = json.loads(message.data).get("event") or {}
            states = [d.get("s") for d in (event.get("a") or {}).values()]
            states += [(d.get("+") or {}).get("s") for d in (event.get("c") or {}).values()]
            if "paused" in states:
                return time.monotonic()
    raise TimeoutError


async def _measure(base: Path, section: Section) -> None:
    load = environment()
    addon: Child | None = None
    async with home_assistant(base) as stack:
        try:
            extra = [
                "--moonraker", "1", "--octoprint", "9",
                "--failure-after", str(FAILURE_AFTER), "--failure-only", "moonraker",
            ]  # fmt: skip
            lines = await stack.farm(extra)
            farm_started = time.monotonic()
            await stack.add(lines, timeout=120)
            api, layout = stack.api, stack.layout
            if api.token is None:
                raise RuntimeError("Home Assistant gave the benchmark no token")
            options = layout.base / "addon" / "options.json"
            options.parent.mkdir(parents=True, exist_ok=True)
            options.write_text(json.dumps({"interval": INTERVAL, "warmup_frames": WARMUP}))
            addon, ui_port, api_port = await start_addon(layout, api.base_url, api.token)
            await connect_addon(api, f"http://127.0.0.1:{api_port}", api_key(layout))
            ui = f"http://127.0.0.1:{ui_port}"
            session = api.session

            registry = await api.ws_command({"type": "config/entity_registry/list"})
            status = next(
                e["entity_id"]
                for e in registry
                if e["platform"] == "printfarm"
                and e["translation_key"] == "status"
                and "moonraker" in e["entity_id"]
            )
            paused = asyncio.create_task(_wait_paused(api, status, PAUSE_TIMEOUT))

            # Throughput and memory once all ten cameras are being analysed.
            while True:  # polling the add-on's page: the benchmark has no event to wait on
                printers = await _frames(session, ui)
                if len(printers) >= 10 and min(p["frames"] for p in printers.values()) >= 1:
                    break
                await asyncio.sleep(1.0)
            frames0 = sum(p["frames"] for p in (await _frames(session, ui)).values())
            cpu0, t0 = cpu_seconds(addon.pid), time.monotonic()
            await asyncio.sleep(MEASURE_S)
            frames1 = sum(p["frames"] for p in (await _frames(session, ui)).values())
            cpu1, t1 = cpu_seconds(addon.pid), time.monotonic()
            rss, peak = memory_mb(addon.pid)
            frames = frames1 - frames0
            per_core = frames / max(cpu1 - cpu0, 1e-6)
            section.add(
                "frames/s per core",
                round(per_core, 1),
                "fps",
                f"{frames} frames of 10 cameras in {t1 - t0:.0f} s used {cpu1 - cpu0:.2f} CPU s",
            )
            section.add(
                "resident memory",
                round(rss, 1),
                "MB",
                f"goal <= {MEMORY_GOAL_MB:g} MB: {'met' if rss <= MEMORY_GOAL_MB else 'MISSED'}",
            )
            section.add("peak resident memory", round(peak, 1), "MB", "VmHWM")

            # Latency: the Klipper printer's camera fails FAILURE_AFTER s after the farm started.
            paused_at = await paused
            latency = paused_at - (farm_started + FAILURE_AFTER)
            section.add(
                "first failure frame to paused",
                round(latency, 1),
                "s",
                f"default {INTERVAL} s interval; frames arrive at a random phase of it",
            )
            section.info = {
                "interval_s": INTERVAL,
                "warmup_frames": WARMUP,
                "cameras": 10,
                **load,
            }
        finally:
            if addon is not None:
                with contextlib.suppress(Exception):
                    await addon.stop()


def run(args: Any) -> Section:
    """Start the stack in a temporary folder, measure, stop everything."""
    section = Section("addon")
    with tempfile.TemporaryDirectory(prefix="printfarm-bench-") as tmp:
        asyncio.run(_measure(Path(tmp), section))
    return section
