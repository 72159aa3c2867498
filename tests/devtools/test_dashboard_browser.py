"""The farm dashboard in a real browser: scripts/develop's Home Assistant and its frontend,
Debian's Chromium driven by playwright-core (tests/browser/dashboard.mjs).

Real-peer tier (scripts/test --interop; scripts/interop_setup installs the
browser pieces). The pictures land in the develop folder; PRINTFARM_SCREENSHOTS
names a folder to copy them to (scripts/screenshot writes README's).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import shutil
import time
from typing import Any

import aiohttp
import pytest

from devtools.api import HaApi
from devtools.browser import missing, open_dashboard
from devtools.dashboard import save_card_dashboard
from devtools.onboarding import Owner
from devtools.shots import CARDS_PATH

from .test_develop_end_to_end import Develop, develop  # noqa: F401 - the fixture

pytestmark = pytest.mark.interop


async def printer_statuses(api: HaApi) -> dict[str, tuple[str, str]]:
    """Printer name -> (status entity, status), from the registries as the frontend reads them."""
    entities = await api.ws_command({"type": "config/entity_registry/list"})
    devices = {d["id"]: d for d in await api.ws_command({"type": "config/device_registry/list"})}
    found = {}
    for entity in entities:
        if entity["platform"] != "printfarm" or entity["translation_key"] != "status":
            continue
        device = devices[entity["device_id"]]
        state = await api.get(f"/api/states/{entity['entity_id']}")
        found[device["name_by_user"] or device["name"]] = (entity["entity_id"], state["state"])
    return found


async def wait_status(api: HaApi, entity_id: str, wanted: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = (await api.get(f"/api/states/{entity_id}"))["state"]
        if state == wanted:
            return
        assert time.monotonic() < deadline, f"{entity_id} is {state}, not {wanted}"
        await asyncio.sleep(0.5)


def keep(shots: list[Path]) -> None:
    if target := os.environ.get("PRINTFARM_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, Path(target) / shot.name)


async def test_farm_dashboard_renders_and_pause_in_the_browser_pauses_the_printer(
    develop: Develop,  # noqa: F811
) -> None:
    if lacks := missing():
        pytest.fail("the browser test needs " + ", ".join(lacks) + " (scripts/interop_setup)")
    await develop.start()
    text = "".join(develop.output)
    assert f"Farm dashboard: http://127.0.0.1:{develop.port}/printfarm-farm" in text
    owner = Owner.load(develop.base / "owner.json")
    assert owner is not None
    out = develop.base / "shots"
    async with aiohttp.ClientSession() as session:
        api = develop.api(session)
        plain = HaApi(session, api.base_url)
        statuses = await printer_statuses(api)
        assert len(statuses) == 5

        report: dict[str, Any] = await open_dashboard(
            plain, owner, "/printfarm-farm", out, shot="farm-dashboard.png", expect_sections=6
        )
        assert report.get("error") is None, report
        assert report["error_cards"] == 0, report["error_texts"]
        assert report["sections"][0] == "Print farm"
        assert sorted(report["sections"][1:], key=str.casefold) == sorted(
            statuses, key=str.casefold
        )
        assert report["buttons"] == 3 + 3 * 5  # the farm's three, three per printer
        assert report["pictures"] >= 5  # a camera per printer (and thumbnails)
        assert report["tiles"] >= 11 + 5 * 8
        assert report["failed_requests"] == [], report["failed_requests"]
        assert (out / "farm-dashboard.png").stat().st_size > 50_000

        printing = sorted(name for name, (_e, s) in statuses.items() if s == "printing")
        assert printing, statuses
        name = printing[0]
        entity_id = statuses[name][0]
        report = await open_dashboard(
            plain,
            owner,
            "/printfarm-farm",
            out,
            expect_sections=6,
            press={"section": name, "button": "Pause"},
        )
        assert report.get("error") is None, report
        assert report["press_candidates"] == 1
        await wait_status(api, entity_id, "paused")
        after = await printer_statuses(api)
        for other in printing[1:]:
            assert after[other][1] != "paused", (other, after[other])

        page = await save_card_dashboard(
            api, CARDS_PATH, [{"type": "custom:printfarm-printer-card", "printer": name}]
        )
        report = await open_dashboard(
            plain, owner, page, out, shot="printer-card.png", size=(900, 1000)
        )
        assert report.get("error") is None, report
        assert report["error_cards"] == 0, report["error_texts"]
        assert report["sections"] == [name]
        assert report["buttons"] == 3
    keep([out / "farm-dashboard.png", out / "printer-card.png"])
    code, rest = await develop.interrupt()
    assert code == 0, rest
