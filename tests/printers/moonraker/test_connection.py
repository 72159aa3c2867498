"""Moonraker client against the simulator: credentials, bad frames, drops, silence, restarts."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterNotSupportedError,
    PrintStatus,
)
from custom_components.printfarm.printers.limits import MAX_MESSAGE_BYTES
from custom_components.printfarm.printers.moonraker import MoonrakerClient, create
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.moonraker import MoonrakerSimulator
from tests.lines import client_options

from .conftest import KEY, TIMEOUT, fast, make_sim


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
