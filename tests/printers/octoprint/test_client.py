"""OctoPrintClient against the OctoPrint simulator over real loopback sockets."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterNotSupportedError,
    PrintStatus,
)
from custom_components.printfarm.printers.octoprint import (
    AppKeyRateLimitedError,
    OctoPrintClient,
    create,
)
from custom_components.printfarm.printers.octoprint.parse import parse_current
from simulator.job import Phase
from simulator.octoprint import MAXTEMP, OctoPrintSimulator
from tests.lines import client_options

from .conftest import WAIT, make_client, start_sim, status_is, status_of


async def test_line_builds_a_working_client(session: aiohttp.ClientSession) -> None:
    sim, line = await start_sim()
    try:
        assert set(line) == {"kind", "name", "host", "port", "api_key"}
        options = client_options(line)
        client = create(options, session)
        async with client:
            assert client.info.firmware == "OctoPrint 1.11.8"
            assert client.info.name == line["name"]
            assert client.info.model == "Default"  # the printer profile's name
            assert client.info.unique_id == sim.uuid  # from the discovery plugin
            assert client.state.status is PrintStatus.PRINTING
            assert client.state.job == "cube.gcode"
            assert client.state.nozzle_target == 215.0
            assert client.capabilities.gcode
            assert client.camera.kind is CameraKind.MJPEG
    finally:
        await sim.stop()


async def test_pause_resume_stop_confirmed_by_state(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    async with make_client(sim, session) as client:
        await client.wait_for_state(status_is(PrintStatus.PRINTING), WAIT)
        await client.pause()
        assert status_of(client) is PrintStatus.PAUSED
        assert sim.job.tick().phase is Phase.PAUSED
        await client.pause()  # already paused: no request, no error
        await client.resume()
        assert status_of(client) is PrintStatus.PRINTING
        assert sim.job.tick().phase is Phase.PRINTING
        await client.stop()
        assert status_of(client) is PrintStatus.CANCELLED
        assert client.state.native_status == "Operational"
        assert sim.job.phase is Phase.CANCELLED
        with pytest.raises(PrinterCommandError) as err:
            await client.pause()
        assert err.value.reason == "not_printing"


async def test_server_409_on_commands_becomes_reason(
    session: aiohttp.ClientSession,
) -> None:
    sim, _ = await start_sim(start_printing=False)
    try:
        async with make_client(sim, session) as client:
            assert client.state.status is PrintStatus.IDLE
            with pytest.raises(PrinterCommandError) as err:
                await client._command("api/job", {"command": "pause", "action": "pause"}, "pause")
            assert err.value.reason == "not_printing"
            assert "neither printing nor paused" in str(err.value)
    finally:
        await sim.stop()


async def test_job_finishes(session: aiohttp.ClientSession) -> None:
    sim, _ = await start_sim(duration_s=600.0)
    try:
        async with make_client(sim, session) as client:
            sim.job.speed = 1000.0
            state = await client.wait_for_state(status_is(PrintStatus.FINISHED), WAIT)
            assert state.progress == 100.0
            assert state.native_status == "Operational"
            assert state.job == "cube.gcode"
    finally:
        await sim.stop()


async def test_temperatures(sim: OctoPrintSimulator, session: aiohttp.ClientSession) -> None:
    async with make_client(sim, session) as client:
        await client.set_nozzle_target(190)
        assert client.state.nozzle_target == 190.0
        await client.set_bed_target(55.5)
        assert client.state.bed_target == 55.5
        assert sim.job.bed_target == 55.5
        with pytest.raises(PrinterCommandError) as err:
            await client.set_nozzle_target(999)
        assert err.value.reason == "invalid_value"
        await client.send_gcode("M140 S40\n\nM104 S0")
        await client.wait_for_state(lambda s: s.bed_target == 40.0, WAIT)
        with pytest.raises(PrinterCommandError):
            await client.send_gcode("  \n")


async def test_error_then_offline_printer_keeps_polling(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    async with make_client(sim, session) as client:
        await client.send_gcode("!!DEBUG:maxtemp_error")
        state = await client.wait_for_state(status_is(PrintStatus.ERROR), WAIT)
        assert state.connected  # OctoPrint itself is reachable
        assert state.native_status == "Offline after error"
        assert state.error == MAXTEMP
        assert not state.control_available
        assert state.nozzle_temp is None
        with pytest.raises(PrinterCommandError) as err:
            await client.set_bed_target(50)
        assert err.value.reason == "printer_offline"
        # reconnecting the serial link brings it back, without a client reconnect
        async with session.post(
            f"http://127.0.0.1:{sim.port}/api/connection",
            json={"command": "connect"},
            headers={"X-Api-Key": sim.api_key},
        ) as resp:
            assert resp.status == 204
        state = await client.wait_for_state(status_is(PrintStatus.IDLE), WAIT)
        assert state.control_available
        assert state.error is None


async def test_disconnected_printer_is_offline_not_failure(
    session: aiohttp.ClientSession,
) -> None:
    sim, _ = await start_sim(start_printing=False)
    sim.printer_connected = False
    try:
        async with make_client(sim, session) as client:
            assert client.state.connected
            assert client.state.status is PrintStatus.OFFLINE
            assert client.state.native_status == "Offline"
            assert client.state.control_unavailable_reason == "printer_offline"
            assert client.info.firmware == "OctoPrint 1.11.8"
            sim.printer_connected = True
            await client.wait_for_state(status_is(PrintStatus.IDLE), WAIT)
    finally:
        await sim.stop()


async def test_wrong_key_is_auth_error(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    client = OctoPrintClient("127.0.0.1", api_key="WRONG", port=sim.port, session=session)
    with pytest.raises(PrinterAuthError):
        await client.connect()
    client = OctoPrintClient("127.0.0.1", api_key=None, port=sim.port, session=session)
    with pytest.raises(PrinterAuthError):
        await client.connect()
    await client.close()
    assert not session.closed  # an injected session is never closed by the client


async def test_own_session_is_closed(sim: OctoPrintSimulator) -> None:
    client = OctoPrintClient("127.0.0.1", api_key=sim.api_key, port=sim.port, use_push=False)
    await client.connect()
    own = await client._session()
    await client.close()
    assert own.closed


async def test_snapshot_and_camera_urls(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    async with make_client(sim, session) as client:
        assert client.camera.snapshot_url == f"http://127.0.0.1:{sim.port}/webcam/?action=snapshot"
        assert client.camera.stream_url == f"http://127.0.0.1:{sim.port}/webcam/?action=stream"
        frame = await client.snapshot()
        assert frame[:2] == b"\xff\xd8"
        assert client.state.thumbnail_id is not None
        assert "prusaslicerthumbnails" in client.state.thumbnail_id
        thumb = await client.thumbnail()
        assert thumb is not None
        assert thumb[:2] == b"\xff\xd8"


async def test_no_thumbnail_plugin(session: aiohttp.ClientSession) -> None:
    sim, _ = await start_sim(thumbnails=False)
    try:
        async with make_client(sim, session) as client:
            assert client.state.thumbnail_id is None
            assert await client.thumbnail() is None
    finally:
        await sim.stop()


@pytest.mark.parametrize("phase", ["printing", "paused", "error", "offline", "finished"])
async def test_poll_and_push_agree(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession, phase: str
) -> None:
    """The same printer read by poll and by push gives the same state (no flapping)."""
    async with make_client(sim, session, poll_interval=3600.0) as client:
        if phase == "paused":
            sim.job.pause()
        elif phase == "error":
            sim.job.fail(MAXTEMP)
        elif phase == "offline":
            sim.printer_connected = False
        elif phase == "finished":
            sim.job.speed = 1e6
        sim.job.tick()
        sim.job.speed = 0.0  # freeze the clock: both reads see the same instant
        polled = await client.refresh()
        client._on_push(*_push_args(sim._current()))
        assert client.state == polled
        assert polled.status.value == phase


def _push_args(payload: dict[str, Any]) -> tuple[Any, ...]:
    current = parse_current(payload)
    return current.text, current.flags, current.job, (current.tool0, current.bed, current.chamber)


async def test_no_camera_is_not_supported(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    async with make_client(sim, session) as client:
        client._camera = dataclasses.replace(client.camera, snapshot_url=None)
        with pytest.raises(PrinterNotSupportedError):
            await client.snapshot()


async def test_app_keys_flow(sim: OctoPrintSimulator, session: aiohttp.ClientSession) -> None:
    client = OctoPrintClient("127.0.0.1", api_key=None, port=sim.port, session=session)
    assert await client.probe_app_keys()
    token = await client.request_app_key("printfarm", user="admin")
    assert await client.poll_app_key(token) is None
    sim.approve_all()
    key = await client.poll_app_key(token)
    assert key is not None
    with pytest.raises(PrinterAuthError):
        await client.poll_app_key(token)  # handed out once
    async with OctoPrintClient(
        "127.0.0.1", api_key=key, port=sim.port, session=session, use_push=False
    ) as keyed:
        assert keyed.state.status is PrintStatus.PRINTING


async def test_app_key_auto_approve_and_rate_limit(session: aiohttp.ClientSession) -> None:
    sim, _ = await start_sim(appkey_auto_approve=1, appkey_rate_limit=True)
    try:
        client = OctoPrintClient("127.0.0.1", api_key=None, port=sim.port, session=session)
        token = await client.request_app_key("printfarm")
        assert await client.poll_app_key(token) is None
        assert await client.poll_app_key(token) is not None
        await client.request_app_key("printfarm")
        await client.request_app_key("printfarm")
        with pytest.raises(AppKeyRateLimitedError) as err:
            await client.request_app_key("printfarm")
        assert err.value.reason == "rate_limited"
        assert err.value.retry_after
        with pytest.raises(PrinterAuthError):
            await client.poll_app_key("no-such-token")
    finally:
        await sim.stop()


async def test_push_delivers_changes_without_polling(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    async with make_client(sim, session, use_push=True, poll_interval=3600.0) as client:
        assert client._push is not None
        sim.job.pause()
        state = await client.wait_for_state(status_is(PrintStatus.PAUSED), WAIT)
        assert state.native_status == "Paused"
        assert state.nozzle_temp is not None
        sim.job.fail("Heater decoupled")
        state = await client.wait_for_state(status_is(PrintStatus.ERROR), WAIT)
        assert state.error == "Heater decoupled"


async def test_push_silence_falls_back_to_polling(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    async with make_client(sim, session, use_push=True, poll_interval=0.2) as client:
        assert client._push is not None
        client.push_silence_timeout = 0.01
        client._wake.set()
        sim.job.pause()
        await client.wait_for_state(status_is(PrintStatus.PAUSED), WAIT)
        assert client.connected


async def test_dropped_push_socket_is_reopened(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession
) -> None:
    async with make_client(sim, session, use_push=True, poll_interval=3600.0) as client:
        client.push_retry_interval = 0.0
        first = client._push
        assert first is not None
        async with asyncio.timeout(WAIT):
            await sim.push_client_authed.wait()  # the server has taken the first socket
        await sim.drop_push_clients()
        async with asyncio.timeout(WAIT):
            await sim.push_client_authed.wait()
        assert client._push is not None
        assert client._push is not first
        sim.job.pause()  # polling is an hour away: only the new socket can tell
        await client.wait_for_state(status_is(PrintStatus.PAUSED), WAIT)
