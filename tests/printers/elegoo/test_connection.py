"""Elegoo SDCP client against the simulator: drops, silence, bad input, identity, creation."""

from __future__ import annotations

import json

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    ConnectionOptions,
    PrinterConnectionError,
    PrinterKind,
    PrinterNotSupportedError,
    PrintStatus,
)
from custom_components.printfarm.printers.elegoo import ElegooClient, create
from custom_components.printfarm.printers.elegoo.status import Flavor
from custom_components.printfarm.printers.factory import create_client
from tests.lines import client_options

from .conftest import ClientFactory, SimFactory, statuses_of


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
