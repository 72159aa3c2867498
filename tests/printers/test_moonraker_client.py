"""Moonraker client against the simulator over real loopback sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
import json
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    FanKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterKind,
    PrinterNotSupportedError,
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.limits import MAX_MESSAGE_BYTES
from custom_components.printfarm.printers.moonraker import MoonrakerClient, create
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import Phase, PrintJob
from simulator.moonraker import MoonrakerSimulator
from tests.lines import client_options

TIMEOUT = 10.0
KEY = "0123456789abcdef0123456789abcdef"


def make_sim(**extra: Any) -> MoonrakerSimulator:
    job = PrintJob(duration_s=600.0, heat_s=0.0, total_layers=50)
    return MoonrakerSimulator(job, FrameSource(), SimOptions(extra={"api_key": KEY, **extra}))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def sim() -> AsyncIterator[MoonrakerSimulator]:
    simulator = make_sim()
    await simulator.start()
    yield simulator
    await simulator.stop()


def fast(client: MoonrakerClient) -> MoonrakerClient:
    client.backoff.initial = 0.01
    client.backoff.maximum = 0.05
    client.backoff.jitter = 0
    return client


@pytest.fixture
async def client(
    sim: MoonrakerSimulator, session: aiohttp.ClientSession
) -> AsyncIterator[MoonrakerClient]:
    mc = fast(MoonrakerClient("127.0.0.1", sim.port, api_key=KEY, session=session))
    await mc.connect()
    yield mc
    await mc.close()


def status_is(status: PrintStatus) -> Callable[[PrinterState], bool]:
    return lambda s: s.status is status


async def test_connect_reads_identity_capabilities_and_state(client: MoonrakerClient) -> None:
    info = client.info
    assert info.kind is PrinterKind.MOONRAKER
    assert info.unique_id == "0000000000000000000000005eed0000"
    assert info.name == "moonraker-sim-0"
    assert info.firmware == "v0.12.0-sim"
    caps = client.capabilities
    assert caps.camera is CameraKind.MJPEG
    assert caps.chamber_temperature
    assert caps.light
    assert caps.emergency_stop
    assert caps.firmware_restart
    assert caps.controllable_fans == (FanKind.PART_COOLING,)
    assert caps.thumbnail
    assert caps.layers
    assert client.camera.snapshot_url == f"{client.base_url}webcam/?action=snapshot"
    state = client.state
    assert state.connected
    assert state.status is PrintStatus.PRINTING
    assert state.native_status == "printing"
    assert state.job == "benchy.gcode"
    assert state.total_layers == 50
    assert state.nozzle_target == 215.0
    assert state.bed_target == 60.0
    assert state.chamber_temp is not None
    assert state.speed_factor == 100
    assert state.light_on is True


async def test_pushes_progress_without_polling(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    start = client.state.progress or 0.0
    sim.job.speed = 100.0  # the sim pushes notify_status_update deltas as the job runs
    state = await client.wait_for_state(lambda s: (s.progress or 0) > start + 1, TIMEOUT)
    assert state.elapsed_s is not None
    assert state.remaining_s is not None
    assert state.layer is not None


async def test_pause_resume_stop_confirmed_by_state(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    await client.pause()
    assert client.state.native_status == "paused"
    assert sim.job.phase is Phase.PAUSED
    await client.resume()
    resumed = client.state
    assert resumed.status is PrintStatus.PRINTING
    await client.stop()
    stopped = client.state
    assert stopped.status is PrintStatus.CANCELLED
    assert stopped.progress == 0.0
    with pytest.raises(PrinterCommandError) as err:
        await client.resume()
    assert err.value.reason == "not_printing"


async def test_ok_ack_alone_is_not_confirmation(
    client: MoonrakerClient, sim: MoonrakerSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.confirm_timeout = 0.5
    monkeypatch.setattr(sim.job, "pause", lambda: None)  # Klipper says "ok", nothing happens
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_confirmed"
    assert client.state.status is PrintStatus.PRINTING


async def test_job_failure_reports_klipper_message(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    sim.job.fail("Move out of range: 9999.000 0.000 0.000 [0.000]")
    state = await client.wait_for_state(status_is(PrintStatus.ERROR), TIMEOUT)
    assert state.native_status == "error"
    assert state.error == "Move out of range: 9999.000 0.000 0.000 [0.000]"
    assert state.job == "benchy.gcode"  # print_stats keeps the job after an error
    assert state.control_available


async def test_temperatures_speed_fan_light(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    await client.set_nozzle_target(190)
    await client.set_bed_target(55.5)
    assert sim.job.nozzle_target == 190
    assert sim.job.bed_target == 55.5
    assert "SET_HEATER_TEMPERATURE HEATER=extruder TARGET=190" in sim.gcode_log
    await client.set_speed_factor(150)
    assert client.state.speed_factor == 150
    await client.set_fan_speed(FanKind.PART_COOLING, 40)
    assert client.state.fan_part_cooling == 40
    await client.set_light(False)
    assert client.state.light_on is False
    assert "SET_PIN PIN=caselight VALUE=0" in sim.gcode_log
    with pytest.raises(PrinterCommandError) as err:
        await client.set_nozzle_target(999)
    assert err.value.reason == "invalid_value"
    with pytest.raises(PrinterCommandError) as err:
        await client.set_speed_factor(0)
    assert err.value.reason == "invalid_value"


async def test_gcode_errors_raise_and_unknown_commands_do_not(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    with pytest.raises(PrinterCommandError, match="Move out of range"):
        await client.send_gcode("G1 X9999")
    await client.send_gcode("MY_MACRO")  # Klipper only replies "Unknown command"
    assert sim.gcode_log[-1] == "MY_MACRO"
    with pytest.raises(PrinterCommandError):
        await client.send_gcode("   ")


async def test_emergency_stop_and_firmware_restart_resubscribe(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    await client.emergency_stop()
    state = client.state
    assert state.status is PrintStatus.ERROR
    assert state.native_status == "shutdown"
    assert state.error is not None
    assert state.error.startswith("Shutdown due to webhooks request")
    assert not state.control_available
    with pytest.raises(PrinterCommandError) as err:
        await client.set_bed_target(40)
    assert err.value.reason == "control_unavailable"
    await client.firmware_restart()
    assert client.state.status is PrintStatus.IDLE
    assert client.state.native_status == "standby"
    assert client.state.control_available
    # new subscription after the restart: pushes flow again
    await client.set_bed_target(40)
    assert client.state.bed_target == 40


async def test_klippy_away_then_back_in_error_is_found_by_polling(
    sim: MoonrakerSimulator, session: aiohttp.ClientSession
) -> None:
    mc = MoonrakerClient("127.0.0.1", sim.port, api_key=KEY, session=session)
    mc.klippy_poll_interval = 0.05
    await mc.connect()
    try:
        sim.machine.klippy_state = "disconnected"
        await sim._broadcast("notify_klippy_disconnected")
        state = await mc.wait_for_state(lambda s: s.native_status == "disconnected", TIMEOUT)
        assert state.status is PrintStatus.OFFLINE
        assert state.connected  # Moonraker itself is reachable
        assert not state.control_available
        # Klippy comes back with a config error: no notify_klippy_ready is sent
        sim.machine.klippy_state = "error"
        sim.machine.klippy_message = "Option 'foo' is not valid in section 'extruder'"
        state = await mc.wait_for_state(lambda s: s.native_status == "error", TIMEOUT)
        assert state.status is PrintStatus.ERROR
        assert state.error == "Option 'foo' is not valid in section 'extruder'"
    finally:
        await mc.close()


async def test_thumbnail_and_snapshot(client: MoonrakerClient, sim: MoonrakerSimulator) -> None:
    await client.wait_for_state(lambda s: s.thumbnail_id is not None, TIMEOUT)
    assert client.state.thumbnail_id is not None
    assert "300x300" in client.state.thumbnail_id
    thumb = await client.thumbnail()
    assert thumb == sim.files["benchy.gcode"].thumbnails[".thumbs/benchy-300x300.png"][2]
    frame = await client.snapshot()
    assert frame.startswith(b"\xff\xd8")
    # remaining comes from the slicer estimate in the metadata
    estimate = sim.files["benchy.gcode"].estimated_time
    assert estimate is not None
    assert client.state.remaining_s is not None
    assert client.state.remaining_s <= estimate


async def test_mjpeg_stream_serves_jpeg_parts(
    client: MoonrakerClient, session: aiohttp.ClientSession
) -> None:
    assert client.camera.stream_url is not None
    async with session.get(client.camera.stream_url) as resp:
        assert resp.content_type == "multipart/x-mixed-replace"
        chunk = await resp.content.readuntil(b"\r\n\r\n")
        assert b"Content-Type: image/jpeg" in chunk
        assert (await resp.content.readexactly(2)) == b"\xff\xd8"


@pytest.mark.parametrize("key", [None, "wrong"])
async def test_bad_or_missing_key_is_auth_error(
    sim: MoonrakerSimulator, session: aiohttp.ClientSession, key: str | None
) -> None:
    mc = MoonrakerClient("127.0.0.1", sim.port, api_key=key, session=session)
    with pytest.raises(PrinterAuthError):
        await mc.connect()
    await mc.close()
    assert not mc.connected


async def test_unreachable_is_connection_error(session: aiohttp.ClientSession) -> None:
    sim = make_sim()
    await sim.start()
    port = sim.port
    await sim.stop()
    mc = MoonrakerClient("127.0.0.1", port, session=session, request_timeout=2)
    with pytest.raises(PrinterConnectionError):
        await mc.connect()
    await mc.close()


async def test_open_server_without_key_and_create_from_line(
    session: aiohttp.ClientSession,
) -> None:
    sim = MoonrakerSimulator(
        PrintJob(start_printing=False), FrameSource(), SimOptions(extra={"light": False})
    )
    line = await sim.start()
    try:
        assert "api_key" not in line
        options = client_options(line)
        mc = create(options, session)
        await mc.connect()
        try:
            assert mc.state.status is PrintStatus.IDLE
            assert mc.state.job is None
            assert mc.state.progress is None
            assert not mc.capabilities.light
            with pytest.raises(PrinterNotSupportedError):
                await mc.set_light(True)
            with pytest.raises(PrinterCommandError) as err:
                await mc.pause()
            assert err.value.reason == "not_printing"
            assert await mc.thumbnail() is None
        finally:
            await mc.close()
    finally:
        await sim.stop()


async def test_client_creates_and_closes_its_own_session(sim: MoonrakerSimulator) -> None:
    mc = MoonrakerClient("127.0.0.1", sim.port, api_key=KEY)
    await mc.connect()
    own = await mc._session()
    await mc.close()
    assert own.closed


async def test_malformed_frames_are_ignored(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    before = sim.connection_count
    for junk in (
        "not json",
        "[1, 2, 3]",
        '{"jsonrpc": "2.0"}',
        '{"jsonrpc": "2.0", "id": 99999, "result": 1}',
        '{"jsonrpc": "2.0", "method": "notify_status_update", "params": ["x"]}',
        '{"jsonrpc": "2.0", "method": "notify_status_update", "params": "x"}',
        '{"jsonrpc": "2.0", "method": "notify_status_update",'
        ' "params": [{"print_stats": {"state": 7, "filename": []}}]}',
        b"\x00\x01binary",
    ):
        await sim.send_raw(junk)
    good = {"gcode_move": {"speed_factor": 1.37}}
    await sim.send_raw(
        json.dumps({"jsonrpc": "2.0", "method": "notify_status_update", "params": [good, 1.0]})
    )
    state = await client.wait_for_state(lambda s: s.speed_factor == 137, TIMEOUT)
    assert state.connected
    assert state.status is PrintStatus.PRINTING  # the bad state value kept the last status
    assert sim.connection_count == before


async def test_oversized_frame_is_dropped_unread_and_the_connection_stays(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    seen: list[bool] = []
    client.add_listener(lambda s: seen.append(s.connected))
    await sim.send_raw("x" * (MAX_MESSAGE_BYTES + 16))
    await client.pause()  # answered on the same socket, after the frame
    assert client.state.status is PrintStatus.PAUSED
    assert all(seen)  # never offline
    assert sim.connection_count == 1


async def test_server_drop_marks_offline_and_reconnects(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    await sim.drop_connections()
    offline = await client.wait_for_state(lambda s: not s.connected, TIMEOUT)
    assert offline.status is PrintStatus.OFFLINE
    back = await client.wait_for_state(lambda s: s.connected, TIMEOUT)
    assert back.status is PrintStatus.PRINTING


async def test_silence_watchdog_detects_a_mute_server(
    sim: MoonrakerSimulator, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    mc = fast(
        MoonrakerClient(
            "127.0.0.1", sim.port, api_key=KEY, session=session, poll_interval=0.1, stale_after=0.4
        )
    )
    await mc.connect()
    try:

        async def mute(*_args: Any) -> None:
            return None

        # the socket stays open (pings answered) but no JSON-RPC message ever comes
        monkeypatch.setattr(sim, "_handle_frame", mute)
        monkeypatch.setattr(sim, "_notify", mute)
        await mc.wait_for_state(lambda s: not s.connected, TIMEOUT)
        monkeypatch.undo()
        await mc.wait_for_state(lambda s: s.connected, TIMEOUT)
    finally:
        await mc.close()


async def test_close_is_idempotent_and_offline(client: MoonrakerClient) -> None:
    await client.close()
    await client.close()
    assert client.state.status is PrintStatus.OFFLINE
    with pytest.raises(PrinterConnectionError):
        await client.refresh()


async def test_firmware_restart_from_ready_waits_for_the_restart(
    client: MoonrakerClient, sim: MoonrakerSimulator
) -> None:
    seen: list[str | None] = []
    client.add_listener(lambda s: seen.append(s.native_status))
    await client.firmware_restart()
    assert "disconnected" in seen
    assert client.state.native_status == "standby"
    assert client.state.control_available


async def test_simulator_http_routes(
    sim: MoonrakerSimulator, session: aiohttp.ClientSession
) -> None:
    base = f"http://127.0.0.1:{sim.port}/"
    async with session.get(base + "server/info") as resp:
        assert resp.status == 401
    headers = {"X-Api-Key": KEY}
    async with session.get(
        base + "printer/objects/query?print_stats&extruder=target", headers=headers
    ) as resp:
        status = (await resp.json())["result"]["status"]
    assert status["print_stats"]["state"] == "printing"
    assert status["extruder"] == {"target": 215.0}
    async with session.post(
        base + "printer/gcode/script", params={"script": "M140 S45"}, headers=headers
    ) as resp:
        assert (await resp.json()) == {"result": "ok"}
    assert sim.job.bed_target == 45
    sim.machine.klippy_state = "disconnected"
    async with session.get(base + "printer/objects/query?webhooks", headers=headers) as resp:
        assert resp.status == 404
    async with session.get(base + "server/info", headers=headers) as resp:
        info = (await resp.json())["result"]
    assert info["klippy_connected"] is False


async def test_led_light_switched_with_set_led(session: aiohttp.ClientSession) -> None:
    sim = make_sim(light="led")
    await sim.start()
    mc = MoonrakerClient("127.0.0.1", sim.port, api_key=KEY, session=session)
    await mc.connect()
    try:
        assert mc.capabilities.light
        assert mc.state.light_on is True
        await mc.set_light(False)
        off = mc.state
        assert off.light_on is False
        assert sim.gcode_log[-1] == "SET_LED LED=chamber_light RED=0 GREEN=0 BLUE=0 WHITE=0"
        await mc.set_light(True)
        on = mc.state
        assert on.light_on is True
    finally:
        await mc.close()
        await sim.stop()
