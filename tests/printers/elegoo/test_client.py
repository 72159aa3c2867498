"""Elegoo SDCP client against the SDCP simulator over loopback: state, commands, camera."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterCommandError,
    PrintStatus,
)
from simulator.camera import FrameSource
from simulator.job import Phase

from .conftest import ClientFactory, SimFactory, phase_of, statuses_of


async def test_connect_reads_identity_capabilities_and_camera(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    _sim, line = await make_sim()
    client = await make_client(line)
    assert client.info.unique_id == line["serial"]
    assert client.info.name == line["name"]
    assert client.info.model == "Centauri Carbon"
    assert client.info.firmware == "V1.1.29"
    assert client.capabilities.camera is CameraKind.MJPEG
    assert client.capabilities.light
    assert client.capabilities.speed_presets == ("silent", "balanced", "sport", "ludicrous")
    assert client.camera.stream_url == f"http://127.0.0.1:{line['camera_port']}/video"
    assert client.state.connected
    assert client.state.job == "benchy.gcode"
    assert client.state.nozzle_target == 215.0
    assert client.mainboard_id == line["serial"]


async def test_status_progresses_to_finished(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    _sim, line = await make_sim(duration_s=20.0, speed=20.0)
    client = await make_client(line)
    seen = statuses_of(client)
    await client.wait_for_state(lambda s: s.status is PrintStatus.FINISHED, 10)
    statuses = [s.status for s in seen]
    assert PrintStatus.PRINTING in statuses
    progress = [s.progress for s in seen if s.progress is not None]
    assert progress == sorted(progress)
    assert client.state.progress == 100.0
    assert client.state.native_status == "complete"
    assert client.state.layer == client.state.total_layers == 10
    assert client.state.remaining_s == 0


async def test_pause_resume_stop_are_confirmed_by_state(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim(speed=10.0)
    client = await make_client(line)
    seen = statuses_of(client)
    await client.wait_for_state(lambda s: s.status is PrintStatus.PRINTING, 5)
    await client.pause()
    assert (client.state.status, phase_of(sim)) == (PrintStatus.PAUSED, Phase.PAUSED)
    await client.wait_for_state(lambda s: s.native_status == "paused", 5)
    await client.resume()
    assert (client.state.status, phase_of(sim)) == (PrintStatus.PRINTING, Phase.PRINTING)
    await client.stop()
    assert (client.state.status, phase_of(sim)) == (PrintStatus.CANCELLED, Phase.CANCELLED)
    natives = [s.native_status for s in seen]
    for transitional in ("pausing", "resuming", "stopping"):
        assert transitional in natives
    assert [cmd for cmd, _ in sim.requests if cmd >= 128] == [129, 131, 130]


async def test_commands_refused_when_idle(make_sim: SimFactory, make_client: ClientFactory) -> None:
    _sim, line = await make_sim(printing=False)
    client = await make_client(line)
    assert client.state.status is PrintStatus.IDLE
    for command in (
        client.pause(),
        client.resume(),
        client.stop(),
        client.set_speed_preset("sport"),
    ):
        with pytest.raises(PrinterCommandError) as err:
            await command
        assert err.value.reason == "not_printing"


async def test_start_print_and_ack_reasons(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim(printing=False)
    client = await make_client(line)
    sim.stored.add("/local/clip.gcode")  # uploaded earlier
    with pytest.raises(PrinterCommandError) as err:
        await client.start_print("/local/model.stl")
    assert err.value.reason == "file_not_found"
    await client.start_print("/local/clip.gcode")
    assert client.state.job == "clip.gcode"
    assert sim.job.phase in (Phase.HEATING, Phase.PRINTING)
    with pytest.raises(PrinterCommandError) as err:
        await client.start_print("/local/other.gcode")
    assert err.value.reason == "busy"


async def test_light_speed_and_temperatures(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim()
    client = await make_client(line)
    await client.set_light(False)
    assert (client.state.light_on, sim.job.light_on) == (False, False)
    await client.set_light(True)
    assert (client.state.light_on, sim.job.light_on) == (True, True)
    await client.set_speed_preset("sport")
    assert (client.state.speed_factor, client.state.speed_preset) == (130, "sport")
    assert sim.job.speed_factor == 130
    await client.set_nozzle_target(200)
    await client.set_bed_target(55.4)
    assert (client.state.nozzle_target, client.state.bed_target) == (200.0, 55.0)
    assert (sim.job.nozzle_target, sim.job.bed_target) == (200.0, 55.0)
    with pytest.raises(PrinterCommandError) as err:
        await client.set_speed_preset("warp")
    assert err.value.reason == "invalid_value"
    with pytest.raises(PrinterCommandError) as err:
        await client.set_bed_target(150)
    assert err.value.reason == "invalid_value"


async def test_changes_ignored_while_printing_are_not_confirmed(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim(ignore_changes_while_printing=True)
    client = await make_client(line, confirm_timeout=0.3)
    with pytest.raises(PrinterCommandError) as err:
        await client.set_nozzle_target(180)
    assert err.value.reason == "not_confirmed"
    assert "1.1.29" in str(err.value)
    with pytest.raises(PrinterCommandError) as err:
        await client.set_light(False)
    assert err.value.reason == "not_confirmed"
    assert sim.job.nozzle_target == 215.0
    assert client.state.nozzle_target == 215.0


async def test_snapshot_opens_and_releases_the_camera(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim()
    client = await make_client(line)
    image = await client.snapshot()
    assert image in FrameSource()._normal  # one whole frame of the simulator's camera
    assert [data for cmd, data in sim.requests if cmd == 386] == [{"Enable": 1}, {"Enable": 0}]
    assert not sim.video_enabled
    await sim.wait_until(lambda: sim.streams == 0)
    # the camera can be opened again at once
    assert (await client.snapshot()).startswith(b"\xff\xd8")


async def test_video_stream_is_off_until_enabled(
    make_sim: SimFactory, make_client: ClientFactory, session: aiohttp.ClientSession
) -> None:
    sim, line = await make_sim()
    client = await make_client(line)
    async with session.get(client.stream_url) as response:
        assert response.status == 404
    url = await client.enable_video(on=True)
    assert url == client.stream_url
    async with session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        await sim.wait_until(lambda: sim.streams == 1)
        async with session.get(url) as second:
            assert second.status == 503  # one viewer at a time
    await client.enable_video(on=False)
    await sim.wait_until(lambda: sim.streams == 0)


async def test_snapshot_leaves_a_held_stream_alone(
    make_sim: SimFactory, make_client: ClientFactory, session: aiohttp.ClientSession
) -> None:
    sim, line = await make_sim()
    client = await make_client(line)
    url = await client.enable_video(on=True)
    async with session.get(url) as viewer:
        assert viewer.status == 200
        await sim.wait_until(lambda: sim.streams == 1)
        with pytest.raises(PrinterCommandError) as err:
            await client.snapshot()
        assert err.value.reason == "camera_busy"
        assert sim.video_enabled  # the viewer's stream was not switched off
    await client.enable_video(on=False)
    assert not sim.video_enabled
