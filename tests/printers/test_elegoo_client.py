"""Elegoo SDCP client against the SDCP simulator over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    ConnectionOptions,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterKind,
    PrinterNotSupportedError,
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.elegoo import ElegooClient, create
from custom_components.printfarm.printers.elegoo.status import Flavor
from custom_components.printfarm.printers.factory import create_client
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.elegoo import ElegooSimulator
from simulator.job import Phase, PrintJob
from tests.lines import client_options

SimFactory = Callable[..., Awaitable[tuple[ElegooSimulator, dict[str, Any]]]]
ClientFactory = Callable[..., Awaitable[ElegooClient]]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    started: list[ElegooSimulator] = []

    async def factory(
        *, printing: bool = True, duration_s: float = 3600.0, speed: float = 1.0, **extra: Any
    ) -> tuple[ElegooSimulator, dict[str, Any]]:
        job = PrintJob(
            duration_s=duration_s,
            heat_s=2.0,
            total_layers=10,
            speed=speed,
            start_printing=printing,
        )
        options = SimOptions(extra={"tick_interval": 0.05, "status_period": 0.5, **extra})
        sim = ElegooSimulator(job, FrameSource(frame_interval=0.05), options)
        line = await sim.start()
        started.append(sim)
        return sim, line

    yield factory
    for sim in started:
        await sim.stop()


@pytest.fixture
async def make_client(session: aiohttp.ClientSession) -> AsyncIterator[ClientFactory]:
    clients: list[ElegooClient] = []

    async def factory(line: dict[str, Any], *, connect: bool = True, **kwargs: Any) -> ElegooClient:
        client = ElegooClient(
            line["host"],
            port=line["port"],
            video_port=line["camera_port"],
            session=session,
            request_timeout=kwargs.pop("request_timeout", 3.0),
            confirm_timeout=kwargs.pop("confirm_timeout", 3.0),
            **kwargs,
        )
        client.backoff.initial = 0.01
        client.backoff.maximum = 0.05
        clients.append(client)
        if connect:
            await client.connect()
        return client

    yield factory
    for client in clients:
        await client.close()


def phase_of(sim: ElegooSimulator) -> Phase:
    return sim.job.phase


def statuses_of(client: ElegooClient) -> list[PrinterState]:
    seen: list[PrinterState] = []
    client.add_listener(seen.append)
    return seen


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


async def test_reconnects_after_the_printer_drops_an_idle_client(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim(idle_timeout=0.3)
    client = await make_client(line, keepalive_interval=60.0)
    seen = statuses_of(client)
    await client.wait_for_state(lambda s: not s.connected, 5)
    await client.wait_for_state(lambda s: s.connected, 5)
    assert sim.dropped_idle >= 1
    assert any(s.status is PrintStatus.OFFLINE for s in seen)
    assert (await client.refresh()).connected


async def test_keepalive_prevents_the_idle_drop(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim(idle_timeout=0.4)
    client = await make_client(line, keepalive_interval=0.1)
    seen = statuses_of(client)
    # ten keep-alives, 0.1 s apart, span well over the printer's 0.4 s idle window
    await sim.wait_until(lambda: sum(1 for cmd, _ in sim.requests if cmd == 0) >= 10)
    assert sim.dropped_idle == 0
    assert sim.clients == 1
    assert all(s.connected for s in seen)


async def test_silence_watchdog_reconnects_a_half_open_socket(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim(status_period=60.0)
    client = await make_client(line, keepalive_interval=0.1, stale_after=0.4)
    sim.freeze()
    await client.wait_for_state(lambda s: not s.connected, 5)
    await client.wait_for_state(lambda s: s.connected, 5)
    state = await client.refresh()
    assert state.connected
    assert state.status is not PrintStatus.OFFLINE


async def test_fifth_client_is_refused(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim, line = await make_sim()
    clients = [await make_client(line) for _ in range(4)]
    fifth = await make_client(line, connect=False)
    with pytest.raises(PrinterConnectionError):
        await fifth.connect()
    assert sim.refused == 1
    await clients[0].close()
    await sim.wait_until(lambda: sim.clients == 3)
    await fifth.connect()
    assert fifth.state.connected


async def test_bad_input_is_ignored(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim, line = await make_sim()
    client = await make_client(line)
    seen = statuses_of(client)
    before = client.state
    wrong_types = {
        "Status": {"CurrentStatus": "x", "TempTargetNozzle": "hot", "PrintInfo": {"Status": []}},
        "MainboardID": line["serial"],
        "Topic": f"sdcp/status/{line['serial']}",
    }
    for text in (
        "not json",
        "[1, 2, 3]",
        '{"Topic": "sdcp/unknown/x"}',
        '{"Id": "", "Data": {"Cmd": 0, "Data": "x", "RequestID": 5}, "Topic": "sdcp/response/x"}',
        json.dumps(wrong_types),
        "x" * (5 * 1024 * 1024),
    ):
        await sim.broadcast_raw(text)
    state = await client.refresh()  # answered on the same socket, after all of the above
    assert state.connected
    assert state.status is before.status
    assert state.nozzle_target == before.nozzle_target
    assert all(s.connected for s in seen)
    assert sim.clients == 1


async def test_failure_is_reported(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim, line = await make_sim()
    client = await make_client(line)
    sim.job.fail()
    state = await client.wait_for_state(lambda s: s.status is PrintStatus.ERROR, 5)
    assert state.native_status == "error"
    # the code from sdcp/error outlives the status pushes that follow it
    await client.wait_for_state(lambda s: s.error == "printer error code 1", 5)
    assert (await client.refresh()).error == "printer error code 1"


async def test_identity_from_status_when_attributes_never_come(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    _sim, line = await make_sim(send_attributes=False)
    client = await make_client(line, request_timeout=0.5)
    assert client.info.unique_id == line["serial"]
    assert client.info.name == "Elegoo 127.0.0.1"
    assert client.state.status is PrintStatus.PREPARING
    assert client.capabilities.camera is CameraKind.MJPEG  # FDM by its status fields


async def test_ticks_in_milliseconds(make_sim: SimFactory, make_client: ClientFactory) -> None:
    _sim, line = await make_sim(ticks_ms=True, duration_s=36000.0)
    client = await make_client(line)
    # 10 h in ms is beyond any plausible count of seconds: read as ms at once
    assert client.state.remaining_s is not None
    assert 35000 <= client.state.remaining_s <= 36000


async def test_refresh_attributes_follows_a_rename(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim()
    client = await make_client(line)
    sim.name = "Bay 7"
    info = await client.refresh_attributes()
    assert info.name == client.info.name == "Bay 7"
    assert info.unique_id == line["serial"]


async def test_offline_commands_raise(make_sim: SimFactory, make_client: ClientFactory) -> None:
    _sim, line = await make_sim()
    client = await make_client(line, connect=False)
    with pytest.raises(PrinterConnectionError):
        await client.set_light(True)
    with pytest.raises(PrinterConnectionError):
        await client.refresh()


async def test_unreachable_printer_raises_connection_error(
    make_client: ClientFactory,
) -> None:
    client = await make_client({"host": "127.0.0.1", "port": 1, "camera_port": 2}, connect=False)
    with pytest.raises(PrinterConnectionError):
        await client.connect()


async def test_created_from_the_simulator_line(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    _sim, line = await make_sim()
    options = client_options(line)
    client = create_client(options, session)
    assert isinstance(client, ElegooClient)
    assert client.video_port == line["camera_port"]
    try:
        await client.connect()
        assert client.info.unique_id == line["serial"]
    finally:
        await client.close()


def test_create_defaults() -> None:
    client = create(ConnectionOptions(kind=PrinterKind.ELEGOO, host="192.0.2.9"), None)  # type: ignore[arg-type]
    assert (client.port, client.video_port, client.url) == (
        3030,
        3031,
        "ws://192.0.2.9:3030/websocket",
    )


async def test_client_without_session_makes_and_closes_its_own(make_sim: SimFactory) -> None:
    _sim, line = await make_sim()
    client = ElegooClient("127.0.0.1", port=line["port"])
    await client.connect()
    own = await client._session()
    await client.close()
    assert own.closed


async def test_resin_printer_has_no_fdm_controls(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    _sim, line = await make_sim()
    client = await make_client(line)
    client._flavor = Flavor.RESIN  # as after a resin printer's attributes
    for command in (client.set_nozzle_target(200), client.set_light(on=True)):
        with pytest.raises(PrinterNotSupportedError):
            await command
    assert not any(cmd == 403 for cmd, _ in _sim.requests)
