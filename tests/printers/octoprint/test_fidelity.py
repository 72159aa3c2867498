"""The simulator answers like real OctoPrint 1.11.8: same keys, types, status codes and texts.

Each case puts the simulator in a state, asks one endpoint and compares the
answer's shape with the live capture of real OctoPrint in that state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
import json
from typing import Any

import aiohttp
import pytest
import pytest_socket

from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.octoprint import OctoPrintSimulator
from tests.conftest import FIXTURES

Setup = Callable[[OctoPrintSimulator], None]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "octoprint" / name).read_text())
    return data


def shape_diff(real: Any, sim: Any, path: str = "$") -> list[str]:
    """Differences in keys and types; null on either side matches any type."""
    if real is None or sim is None:
        return []
    if isinstance(real, dict):
        if not isinstance(sim, dict):
            return [f"{path}: object expected, got {type(sim).__name__}"]
        diffs = [f"{path}: missing {sorted(set(real) - set(sim))}"] if set(real) - set(sim) else []
        if set(sim) - set(real):
            diffs.append(f"{path}: extra {sorted(set(sim) - set(real))}")
        for key in set(real) & set(sim):
            diffs += shape_diff(real[key], sim[key], f"{path}.{key}")
        return diffs
    if isinstance(real, list):
        if not isinstance(sim, list):
            return [f"{path}: list expected"]
        return shape_diff(real[0], sim[0], f"{path}[0]") if real and sim else []
    if type(real) is not type(sim):
        return [f"{path}: {type(real).__name__} expected, got {type(sim).__name__}"]
    return []


def offline(sim: OctoPrintSimulator) -> None:
    sim.printer_connected = False


def idle(_: OctoPrintSimulator) -> None:
    pass


def printing(sim: OctoPrintSimulator) -> None:
    sim.job.start("cube.gcode")


def paused(sim: OctoPrintSimulator) -> None:
    sim.job.start("cube.gcode")
    sim.job.pause()


def cancelled(sim: OctoPrintSimulator) -> None:
    sim.job.start("cube.gcode")
    sim.job.cancel()


def finished(sim: OctoPrintSimulator) -> None:
    sim.job.start("short.gcode")
    sim.job.speed = 1e9
    sim.job.tick()


def failed(sim: OctoPrintSimulator) -> None:
    sim.job.start("cube.gcode")
    sim.job.fail("MAXTEMP triggered! - Not SD printing")


@pytest.fixture
async def sim() -> AsyncIterator[OctoPrintSimulator]:
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)
    job = PrintJob(heat_s=0.0, duration_s=600.0, start_printing=False)
    simulator = OctoPrintSimulator(job, FrameSource(), SimOptions())
    await simulator.start()
    yield simulator
    await simulator.stop()


async def get(sim: OctoPrintSimulator, path: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"http://127.0.0.1:{sim.port}/{path}", headers={"X-Api-Key": sim.api_key}
        ) as resp,
    ):
        return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("setup", "path", "fixture", "state_key"),
    [
        (idle, "api/version", "live_version.json", None),
        (idle, "api/server", "live_server.json", None),
        (offline, "api/connection", "live_connection_error.json", None),
        (idle, "api/connection", "live_connection_operational.json", None),
        (offline, "api/job", "live_job_offline.json", "state"),
        (idle, "api/job", "live_job_operational_idle.json", "state"),
        (printing, "api/job", "live_job_printing.json", "state"),
        (paused, "api/job", "live_job_paused.json", "state"),
        (cancelled, "api/job", "live_job_cancelled.json", "state"),
        (finished, "api/job", "live_job_finished.json", "state"),
        (failed, "api/job", "live_job_error.json", "state"),
        (offline, "api/printer", "live_printer_offline.json", None),
        (failed, "api/printer", "live_printer_error.json", None),
        (idle, "api/printer", "live_printer_operational.json", None),
        (printing, "api/printer", "live_printer_printing.json", None),
        (paused, "api/printer", "live_printer_paused.json", None),
        (cancelled, "api/printer", "live_printer_after_cancel.json", None),
        (finished, "api/printer", "live_printer_finished.json", None),
    ],
)
async def test_rest_answers_match_captures(
    sim: OctoPrintSimulator, setup: Setup, path: str, fixture: str, state_key: str | None
) -> None:
    setup(sim)
    captured = load(fixture)
    status, body = await get(sim, path)
    assert status == captured["status"]
    assert shape_diff(captured["body"], body) == []
    if state_key is not None:
        assert body[state_key] == captured["body"][state_key]
    if "error" in captured["body"]:
        assert body["error"] == captured["body"]["error"]
    if path == "api/printer" and status == 200:
        assert body["state"]["text"] == captured["body"]["state"]["text"]
        assert body["state"]["flags"] == captured["body"]["state"]["flags"]


async def test_app_keys_and_upload_match_captures(sim: OctoPrintSimulator) -> None:
    async with aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{sim.port}"
        async with session.post(
            f"{base}/plugin/appkeys/request", json={"app": "printfarm2", "user": "admin"}
        ) as resp:
            captured = load("live_appkeys_request.json")
            assert resp.status == captured["status"]
            request = await resp.json()
            assert shape_diff(captured["body"], request) == []
        status, pending = await get(sim, "api/plugin/appkeys")
        captured = load("live_appkeys_list_pending.json")
        assert status == captured["status"]
        (real_entry,) = captured["body"]["pending"].values()  # keyed by a random user token
        (entry,) = pending["pending"].values()
        assert shape_diff(real_entry, entry) == []
        assert set(pending) == set(captured["body"])
        assert entry["app_id"] == "printfarm2"
        sim.approve_all()
        async with session.get(f"{base}/plugin/appkeys/request/{request['app_token']}") as resp:
            captured = load("live_appkeys_poll_granted.json")
            assert resp.status == captured["status"]
            assert shape_diff(captured["body"], await resp.json()) == []
        form = aiohttp.FormData()
        form.add_field("file", b"G28\n", filename="cube.gcode")
        form.add_field("select", "true")
        form.add_field("print", "false")
        async with session.post(
            f"{base}/api/files/local", data=form, headers={"X-Api-Key": sim.api_key}
        ) as resp:
            captured = load("live_upload.json")
            assert resp.status == captured["status"]
            assert shape_diff(captured["body"], await resp.json()) == []
        sim.thumbnails = False  # real OctoPrint without a thumbnail plugin
        status, files = await get(sim, "api/files")
        captured = load("live_files.json")
        assert status == captured["status"]
        assert shape_diff(captured["body"], files) == []


def test_shape_diff_catches_differences() -> None:
    assert shape_diff({"a": 1, "b": {"c": 1.0}}, {"a": 1, "b": {"c": 1.0}}) == []
    assert shape_diff({"a": 1}, {"a": "1"}) == ["$.a: int expected, got str"]
    assert shape_diff({"a": 1}, {}) == ["$: missing ['a']"]
    assert shape_diff({"a": None}, {"a": 5}) == []
