"""The whole product as scripts/develop runs it: a real Home Assistant process, the simulated
farm, printfarm and the detection add-on process. One printer's camera switches to failure
frames: that print is paused within the bound, the others keep printing, and the printer's
device in Home Assistant shows the detection.

Real-peer tier (a real Home Assistant process, about two minutes): scripts/test --interop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import json
from pathlib import Path
import time
from typing import Any

import aiohttp
import pytest

from devtools.addon import DEMO_OPTIONS
from devtools.api import HaApi

from .test_develop_end_to_end import Develop, free_port, processes_using

pytestmark = pytest.mark.interop

FAILURE_AFTER = 60.0
#: The shipped model's own threshold: a frame scoring at or above it is a failure.
METRICS = Path(__file__).parents[2] / "ml_addon" / "models" / "metrics.json"
MODEL_THRESHOLD = float(json.loads(METRICS.read_text(encoding="utf-8"))["threshold"])
#: Frames from the first failure frame to the pause (decision bound), at the demo interval,
#: plus the time a frame, the pause and the printer's confirmation take.
PAUSE_BOUND_S = 8 * float(DEMO_OPTIONS["interval"]) + 15.0


@pytest.fixture
async def develop(tmp_path: Any) -> AsyncGenerator[Develop]:
    run = Develop(tmp_path / "develop", free_port())
    yield run
    await run.kill()


async def wait_for_state(
    api: HaApi, entity_id: str, accept: Callable[[str], bool], timeout: float
) -> tuple[str, float]:
    """Follow ``entity_id`` (subscribe_entities) until ``accept``: (state, monotonic time)."""
    async with asyncio.timeout(timeout):
        while True:  # a closed WebSocket is opened again
            async with api.session.ws_connect(api.websocket_url) as ws:
                await ws.receive_json()
                await ws.send_json({"type": "auth", "access_token": api.token})
                assert (await ws.receive_json())["type"] == "auth_ok"
                await ws.send_json(
                    {"id": 1, "type": "subscribe_entities", "entity_ids": [entity_id]}
                )
                async for message in ws:
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        break
                    event = message.json().get("event") or {}
                    for diff in (event.get("a") or {}).values():
                        if accept(str(diff.get("s"))):
                            return str(diff["s"]), time.monotonic()
                    for diff in (event.get("c") or {}).values():
                        state = (diff.get("+") or {}).get("s")
                        if state is not None and accept(str(state)):
                            return str(state), time.monotonic()


async def entities_by_printer(api: HaApi) -> dict[str, dict[str, str]]:
    """printfarm entity ids per printer entry, keyed by translation key."""
    registry = await api.ws_command({"type": "config/entity_registry/list"})
    found: dict[str, dict[str, str]] = {}
    for entity in registry:
        if entity["platform"] == "printfarm" and entity["translation_key"]:
            found.setdefault(entity["config_entry_id"], {})[entity["translation_key"]] = entity[
                "entity_id"
            ]
    return found


async def test_failing_printer_is_paused_and_the_rest_keep_printing(develop: Develop) -> None:
    develop_args = ["--", "--failure-after", str(FAILURE_AFTER), "--failure-only", "moonraker"]
    started = time.monotonic()
    await develop.start(*develop_args)
    text = "".join(develop.output)
    assert "Starting the detection add-on" in text
    assert "connected through the printfarm config flow (added)" in text

    async with aiohttp.ClientSession() as session:
        api = develop.api(session)
        entries = await api.get("/api/config/config_entries/entry?domain=printfarm")
        kinds = {e["entry_id"]: e for e in entries}
        addon = [e for e in entries if e["title"] == "printfarm detection"]
        assert len(addon) == 1
        assert addon[0]["state"] == "loaded"
        printers = await entities_by_printer(api)
        moonraker = next(
            ids for entry_id, ids in printers.items() if "moonraker" in kinds[entry_id]["title"]
        )
        others = [ids for ids in printers.values() if ids is not moonraker and "status" in ids]

        # Paused within the bound after the camera switched, not before.
        _state, paused_at = await wait_for_state(
            api, moonraker["status"], lambda s: s == "paused", FAILURE_AFTER + PAUSE_BOUND_S + 60
        )
        assert paused_at - started >= FAILURE_AFTER
        assert paused_at - started <= FAILURE_AFTER + PAUSE_BOUND_S + 30  # + the farm's start-up

        for ids in others:
            state = await api.get(f"/api/states/{ids['status']}")
            assert state["state"] in ("printing", "preparing"), ids["status"]
            if "failure_detected" in ids:  # printers with a camera
                state = await api.get(f"/api/states/{ids['failure_detected']}")
                assert state["state"] == "off", ids["failure_detected"]

        # The failed printer's device shows the detection.
        await wait_for_state(api, moonraker["failure_detected"], lambda s: s == "on", 30)
        score = await api.get(f"/api/states/{moonraker['failure_score']}")
        # The smoothed score that paused, shown to one decimal: at the model's threshold or above.
        assert float(score["state"]) >= round(100 * MODEL_THRESHOLD, 1) - 0.05
        image = await api.get(f"/api/states/{moonraker['last_detection']}")
        assert image["attributes"]["level"] == "failure"
        assert image["attributes"]["action"] == "pause"
        assert (await api.get(f"/api/states/{moonraker['detection_enabled']}"))["state"] == "on"

        # The add-on told Home Assistant, which shows it in a notification.
        notifications = await api.ws_command({"type": "persistent_notification/get"})
        assert any("moonraker" in n.get("title", "") for n in notifications)

    code, rest = await develop.interrupt()
    assert code == 0, rest
    assert "Stopping detection add-on" in rest
    assert processes_using(develop.base) == []
