"""One scenario, two peers: a real Moonraker 0.11 + Klippy and printfarm's simulator.

The same steps run against both (``[real]`` and ``[simulator]``), so the
simulator is held to what the real server does: standby, light and fan,
heater targets, a print paused, resumed and cancelled, a second print to
complete with its thumbnail and slicer estimate, an out-of-range move that
fails a print, and an emergency stop recovered by a firmware restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    FanKind,
    PrinterAuthError,
    PrinterCommandError,
    PrintStatus,
)
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.moonraker import MoonrakerSimulator
from simulator.moonraker.files import solid_png
from tests.interop.moonraker_peer import (
    gcode_file,
    sliced_gcode,
    start_peer,
    unavailable_reason,
    upload_form,
)

pytestmark = pytest.mark.interop

#: Long enough that pause lands mid-print on the real batch-mode host (~11k lines/s).
FIRST_JOB_LINES = 60_000
SHORT_JOB_LINES = 3_000
#: Long enough to still print while the busy refusals are checked (~20 s on the real host).
LONG_JOB_LINES = 250_000
STEP_TIMEOUT = 30.0


@dataclass
class Target:
    """Where the scenario runs."""

    port: int
    api_key: str

    @property
    def base_url(self) -> str:
        """Moonraker's base URL."""
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture(params=["real", "simulator"])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    """A running Moonraker: the real one (skipped if not installed) or the simulator."""
    if request.param == "real":
        reason = unavailable_reason()
        if reason is not None:
            pytest.skip(reason)
        peer = await start_peer(tmp_path / "moonraker")
        try:
            yield Target(peer.port, peer.api_key)
        finally:
            await peer.stop()
        return
    job = PrintJob(start_printing=False, duration_s=3.0, heat_s=0.0, total_layers=10)
    sim = MoonrakerSimulator(job, FrameSource(), SimOptions(extra={"api_key": "sim-interop-key"}))
    line = await sim.start()
    try:
        yield Target(line["port"], line["api_key"])
    finally:
        await sim.stop()


async def _upload(
    session: aiohttp.ClientSession, target: Target, name: str, text: str, folder: str = ""
) -> None:
    async with session.post(
        target.base_url + "server/files/upload",
        data=upload_form(name, text, folder),
        headers={"X-Api-Key": target.api_key},
    ) as resp:
        assert resp.status == 201, await resp.text()


async def test_wrong_api_key_is_an_auth_error(target: Target) -> None:
    async with aiohttp.ClientSession() as session:
        client = MoonrakerClient("127.0.0.1", target.port, api_key="wrong", session=session)
        with pytest.raises(PrinterAuthError):
            await client.connect()
        await client.close()


async def test_full_cycle(target: Target) -> None:
    png = solid_png(16, 16, (200, 30, 30))
    async with aiohttp.ClientSession() as session:
        await _upload(session, target, "job1.gcode", gcode_file(FIRST_JOB_LINES))
        await _upload(session, target, "sliced.gcode", sliced_gcode(SHORT_JOB_LINES, png))
        await _upload(session, target, "err.gcode", gcode_file(SHORT_JOB_LINES, bad_move_at=0.5))
        client = MoonrakerClient("127.0.0.1", target.port, api_key=target.api_key, session=session)
        await client.connect()
        try:
            await _scenario(client, target)
        finally:
            await client.close()


async def test_files_start_and_reprint(target: Target) -> None:
    """List the gcodes root (folders included), start, refuse while busy, reprint from the
    history, refuse a file that is not there."""
    async with aiohttp.ClientSession() as session:
        long_job = gcode_file(LONG_JOB_LINES)
        await _upload(session, target, "long.gcode", long_job)
        await _upload(session, target, "nested.gcode", gcode_file(SHORT_JOB_LINES), "sub")
        client = MoonrakerClient("127.0.0.1", target.port, api_key=target.api_key, session=session)
        await client.connect()
        try:
            assert client.capabilities.print_files
            assert client.capabilities.reprint  # the [history] component is loaded
            files = {f.path: f for f in await client.list_files()}
            assert files["long.gcode"].size == len(long_job.encode())
            assert files["long.gcode"].modified is not None
            assert files["sub/nested.gcode"].name == "nested.gcode"

            await client.start_print("long.gcode")
            assert _status(client) is PrintStatus.PRINTING
            assert client.state.job == "long.gcode"
            with pytest.raises(PrinterCommandError) as err:
                await client.start_print("sub/nested.gcode")
            assert err.value.reason == "busy"
            # the server's own refusal, bypassing the client's check
            with pytest.raises(PrinterCommandError) as err:
                await client._send_start("sub/nested.gcode")
            assert err.value.reason == "busy", err.value
            await client.stop()

            await client.reprint()  # the newest job of server.history
            assert client.state.job == "long.gcode"
            assert client.state.status in (PrintStatus.PRINTING, PrintStatus.FINISHED)
            await client.stop()

            await client.start_print("sub/nested.gcode")
            assert client.state.job == "sub/nested.gcode"
            await client.wait_for_state(lambda s: s.status is PrintStatus.FINISHED, STEP_TIMEOUT)

            with pytest.raises(PrinterCommandError) as err:
                await client.start_print("not-uploaded.gcode")
            assert err.value.reason == "file_not_found"
        finally:
            await client.close()


def _status(client: MoonrakerClient) -> PrintStatus:
    return client.state.status


async def _scenario(client: MoonrakerClient, target: Target) -> None:
    state = client.state
    assert state.connected
    assert state.status is PrintStatus.IDLE
    assert state.native_status == "standby"
    assert state.job is None
    caps = client.capabilities
    assert caps.emergency_stop
    assert caps.firmware_restart
    assert caps.gcode
    assert caps.chamber_temperature
    assert caps.light
    assert caps.controllable_fans == (FanKind.PART_COOLING,)
    assert client.camera.kind is CameraKind.MJPEG
    assert client.camera.snapshot_url == target.base_url + "webcam/?action=snapshot"
    assert client.info.unique_id

    # Light and fan first: in batch mode the real host applies pin changes at
    # print time, which runs far ahead of the clock after a print.
    await client.set_light(False)
    assert client.state.light_on is False
    await client.set_light(True)
    await client.set_fan_speed(FanKind.PART_COOLING, 50)
    assert client.state.fan_part_cooling == 50
    await client.set_nozzle_target(200)
    await client.set_nozzle_target(0)
    await client.set_speed_factor(120)
    assert client.state.speed_factor == 120

    # print -> pause -> resume -> cancel
    await client.start_print("job1.gcode")
    assert _status(client) is PrintStatus.PRINTING
    assert client.state.job == "job1.gcode"
    await client.pause()
    paused = client.state
    assert paused.status is PrintStatus.PAUSED
    assert paused.native_status == "paused"
    assert paused.progress is not None
    assert 0 <= paused.progress < 100
    assert paused.total_layers == 10
    await client.resume()
    assert _status(client) is PrintStatus.PRINTING
    await client.stop()
    assert _status(client) is PrintStatus.CANCELLED
    assert client.state.native_status == "cancelled"
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"

    # a sliced job to completion: layers, progress, slicer estimate, thumbnail
    await client.start_print("sliced.gcode")
    done = await client.wait_for_state(
        lambda s: s.status is PrintStatus.FINISHED and s.job == "sliced.gcode", STEP_TIMEOUT
    )
    assert done.native_status == "complete"
    assert done.progress == 100.0
    assert done.remaining_s == 0
    assert done.layer == done.total_layers == 10
    await client.wait_for_state(lambda s: s.thumbnail_id is not None, STEP_TIMEOUT)
    thumb = await client.thumbnail()
    assert thumb is not None
    assert thumb.startswith(b"\x89PNG")

    # an out-of-range move fails the print
    await client.start_print("err.gcode")
    failed = await client.wait_for_state(
        lambda s: s.status is PrintStatus.ERROR and s.job == "err.gcode", STEP_TIMEOUT
    )
    assert failed.native_status == "error"
    assert failed.error is not None
    assert failed.error.startswith("Move out of range")
    assert failed.control_available
    with pytest.raises(PrinterCommandError):
        await client.send_gcode("G1 X9999")

    # emergency stop -> shutdown -> firmware restart -> ready
    await client.emergency_stop()
    down = client.state
    assert down.status is PrintStatus.ERROR
    assert down.native_status == "shutdown"
    assert not down.control_available
    assert down.error is not None
    assert "shutdown" in down.error.lower()
    with pytest.raises(PrinterCommandError) as err:
        await client.send_gcode("M105")
    assert err.value.reason == "control_unavailable"
    await client.firmware_restart()
    back = client.state
    assert back.status is PrintStatus.IDLE
    assert back.native_status == "standby"
    assert back.control_available
    assert back.error is None
    # the subscription was renewed: a new target shows up again
    await client.set_bed_target(55)
    assert client.state.bed_target == 55


def _shape(value: Any) -> Any:
    """Field names and JSON types, numbers merged (Klipper mixes 0 and 0.0)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _without_nulls(objects: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {
        name: {field: kind for field, kind in fields.items() if kind != "NoneType"}
        for name, fields in objects.items()
    }


async def _raw_shapes(port: int, api_key: str, filename: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        client = MoonrakerClient("127.0.0.1", port, api_key=api_key, session=session)
        await client.connect()
        try:
            shapes: dict[str, Any] = {"objects": _shape(client._objects)}
            for method, params in (
                ("server.info", None),
                ("printer.info", None),
                ("server.webcams.list", None),
                ("server.files.metadata", {"filename": filename}),
            ):
                shapes[method] = _shape(await client._call(method, params))
            return shapes
        finally:
            await client.close()


async def test_simulator_shapes_match_real(tmp_path: Path) -> None:
    """Same field names and value types from both peers (idle, after an upload)."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    png = solid_png(16, 16, (10, 20, 30))
    text = sliced_gcode(SHORT_JOB_LINES, png)
    peer = await start_peer(tmp_path / "moonraker")
    try:
        async with aiohttp.ClientSession() as session:
            await _upload(session, Target(peer.port, peer.api_key), "shape.gcode", text)
        real = await _raw_shapes(peer.port, peer.api_key, "shape.gcode")
    finally:
        await peer.stop()
    sim = MoonrakerSimulator(
        PrintJob(start_printing=False), FrameSource(), SimOptions(extra={"api_key": "k"})
    )
    line = await sim.start()
    try:
        async with aiohttp.ClientSession() as session:
            await _upload(session, Target(line["port"], "k"), "shape.gcode", text)
        simulated = await _raw_shapes(line["port"], "k", "shape.gcode")
    finally:
        await sim.stop()
    # A requested field the object lacks comes back null from the server's first
    # query and is left out of its cached status later: the client reads both as
    # "no value", so absent and null count as the same shape.
    assert _without_nulls(simulated["objects"]) == _without_nulls(real["objects"])
    for method in ("server.info", "printer.info"):
        assert set(simulated[method]) == set(real[method]), method
    assert simulated["server.webcams.list"] == real["server.webcams.list"]
    sim_meta, real_meta = simulated["server.files.metadata"], real["server.files.metadata"]
    for key in ("size", "modified", "uuid", "slicer", "estimated_time", "thumbnails", "filename"):
        assert sim_meta.get(key) == real_meta.get(key), key


async def test_trusted_client_needs_no_key(tmp_path: Path) -> None:
    """With 127.0.0.0/8 in ``trusted_clients`` the real server lets a keyless client in."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    peer = await start_peer(tmp_path / "moonraker", auth=False)
    try:
        async with aiohttp.ClientSession() as session:
            client = MoonrakerClient("127.0.0.1", peer.port, session=session)
            await client.connect()
            try:
                assert client.state.status is PrintStatus.IDLE
                await client.set_bed_target(30)
            finally:
                await client.close()
    finally:
        await peer.stop()
