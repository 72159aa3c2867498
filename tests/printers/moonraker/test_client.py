"""Moonraker client against the simulator over real loopback sockets: state, commands, images."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    FanKind,
    PrinterCommandError,
    PrinterKind,
    PrintStatus,
)
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from simulator.job import Phase
from simulator.moonraker import MoonrakerSimulator

from .conftest import KEY, TIMEOUT, status_is


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
