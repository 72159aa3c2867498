"""OctoPrintClient against the OctoPrint simulator over real loopback sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import dataclasses
import logging
from typing import Any

import aiohttp
from aiohttp import web
import pytest
import pytest_socket

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterNotSupportedError,
    PrinterProtocolError,
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.octoprint import (
    AppKeyRateLimitedError,
    OctoPrintClient,
    create,
)
from custom_components.printfarm.printers.octoprint.parse import parse_current
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import Phase, PrintJob
from simulator.octoprint import MAXTEMP, OctoPrintSimulator
from tests.lines import client_options

WAIT = 10.0


def allow_loopback() -> None:
    """Fixtures run before conftest's trylast hook re-opens loopback: do it here too."""
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)


def status_of(client: OctoPrintClient) -> PrintStatus:
    """The client's status now (a call, so type checkers do not narrow it)."""
    return client.state.status


def status_is(*statuses: PrintStatus) -> Callable[[PrinterState], bool]:
    return lambda state: state.status in statuses


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def start_sim(
    *, start_printing: bool = True, duration_s: float = 600.0, **extra: Any
) -> tuple[OctoPrintSimulator, dict[str, Any]]:
    allow_loopback()
    job = PrintJob(
        file="cube.gcode", duration_s=duration_s, heat_s=0.0, start_printing=start_printing
    )
    sim = OctoPrintSimulator(job, FrameSource(), SimOptions(extra=extra))
    line = await sim.start()
    return sim, line


@pytest.fixture
async def sim() -> AsyncIterator[OctoPrintSimulator]:
    simulator, _ = await start_sim()
    yield simulator
    await simulator.stop()


def make_client(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession, **kwargs: Any
) -> OctoPrintClient:
    kwargs.setdefault("poll_interval", 0.2)
    kwargs.setdefault("fast_poll_interval", 0.05)
    kwargs.setdefault("use_push", False)
    return OctoPrintClient(
        "127.0.0.1", api_key=sim.api_key, port=sim.port, session=session, **kwargs
    )


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


# ------------------------------------------------------------ hostile servers


class Hostile:
    """An aiohttp server whose /api/job and /api/printer answers a test controls."""

    def __init__(self) -> None:
        self.job: Callable[[], web.Response] = lambda: web.json_response(
            {"state": "Printing", "job": {"file": {"name": "a.gcode"}}, "progress": {}}
        )
        self.printer: Callable[[], web.Response] = lambda: web.json_response(
            {"state": {"text": "Printing", "flags": {"printing": True}}, "temperature": {}}
        )
        self.version: dict[str, Any] = {
            "api": "0.1",
            "server": "1.11.8",
            "text": "OctoPrint 1.11.8",
        }
        self.slow_job: Callable[[], Awaitable[web.Response]] | None = None
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/version", lambda _: self._json(self.version))
        app.router.add_get("/api/server", lambda _: self._json({"version": "1.11.8"}))
        app.router.add_get("/api/connection", lambda _: self._json({"current": "x"}))
        app.router.add_get("/api/settings", lambda _: self._async(web.Response(text="<html>")))
        app.router.add_get("/api/job", self._job)
        app.router.add_post("/api/job", lambda _: self._async(web.Response(status=204)))
        app.router.add_get("/api/printer", lambda _: self._async(self.printer()))
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def _job(self, _: web.Request) -> web.Response:
        slow, self.slow_job = self.slow_job, None
        return await slow() if slow is not None else self.job()

    @staticmethod
    async def _async(response: web.Response) -> web.Response:
        return response

    async def _json(self, data: object) -> web.Response:
        return web.json_response(data)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    allow_loopback()
    server = Hostile()
    await server.start()
    yield server
    await server.stop()


def hostile_client(hostile: Hostile, session: aiohttp.ClientSession) -> OctoPrintClient:
    return OctoPrintClient(
        "127.0.0.1",
        api_key="k",
        port=hostile.port,
        session=session,
        poll_interval=0.05,
        use_push=False,
    )


async def test_look_alikes_are_refused(hostile: Hostile, session: aiohttp.ClientSession) -> None:
    hostile.version = {"api": "2.0.0", "server": "2.1.2", "text": "PrusaLink"}
    with pytest.raises(PrinterProtocolError, match="prusalink") as err:
        await hostile_client(hostile, session).connect()
    assert err.value.reason == "not_octoprint"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: web.Response(text="{not json", content_type="application/json"),
        lambda: web.json_response(["a", "list"]),
        lambda: web.Response(body=b"{" + b" " * (5 * 1024 * 1024) + b"}"),
        lambda: web.Response(status=500, text="boom"),
    ],
)
async def test_bad_answers_keep_last_good_state(
    hostile: Hostile, session: aiohttp.ClientSession, bad: Callable[[], web.Response]
) -> None:
    async with hostile_client(hostile, session) as client:
        good = client.state
        assert good.status is PrintStatus.PRINTING
        assert good.job == "a.gcode"
        assert client.camera.kind is CameraKind.NONE  # settings was HTML: no camera, no crash
        hostile.job = bad
        with pytest.raises(PrinterProtocolError):
            await client.refresh()
        assert client.state == good
        # the poll loop survives the bad answers and picks up the next good one
        hostile.job = lambda: web.json_response({"state": "Paused", "progress": {}})
        await client.wait_for_state(status_is(PrintStatus.PAUSED), WAIT)


async def test_unknown_state_and_wrong_types_do_not_crash(
    hostile: Hostile, session: aiohttp.ClientSession
) -> None:
    hostile.job = lambda: web.json_response(
        {"state": 42, "job": [], "progress": {"completion": "12.5", "printTime": "x"}}
    )
    hostile.printer = lambda: web.json_response(
        {
            "state": {"text": "Levitating", "flags": {"paused": True}},
            "temperature": {
                "tool0": {"actual": "200.1", "target": "oops"},
                "chamber": {"actual": 30},
            },
        }
    )
    async with hostile_client(hostile, session) as client:
        state = client.state
        assert state.status is PrintStatus.PAUSED
        assert state.native_status == "Levitating"
        assert state.progress == 12.5
        assert state.elapsed_s is None
        assert state.nozzle_temp == 200.1
        assert state.nozzle_target is None
        assert state.chamber_temp == 30.0
        assert client.capabilities.chamber_temperature


async def test_half_open_server_times_out(session: aiohttp.ClientSession) -> None:
    """A server that accepts and never answers is a connection error, not a hang."""
    allow_loopback()
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = OctoPrintClient(
        "127.0.0.1", api_key="k", port=port, session=session, request_timeout=0.3
    )
    try:
        with pytest.raises(PrinterConnectionError):
            await client.connect()
        assert accepted
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
        await client.close()


async def test_secrets_never_logged(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    sim, _ = await start_sim(appkey_auto_approve=0)
    caplog.set_level(logging.DEBUG)
    try:
        wrong = OctoPrintClient(
            "127.0.0.1", api_key="SECRETWRONGKEY", port=sim.port, session=session
        )
        with pytest.raises(PrinterAuthError) as err:
            await wrong.connect()
        assert "SECRETWRONGKEY" not in str(err.value)
        assert "SECRETWRONGKEY" not in repr(wrong)
        async with make_client(sim, session, use_push=True) as client:
            await client.pause()
            token = await client.request_app_key("printfarm")
            granted = await client.poll_app_key(token)
            assert granted is not None
            sim.job.fail()
            await client.wait_for_state(status_is(PrintStatus.ERROR), WAIT)
        for secret in (sim.api_key, "SECRETWRONGKEY", granted):
            assert secret not in caplog.text
    finally:
        await sim.stop()


async def test_poll_overlapping_a_command_is_dropped(
    hostile: Hostile, session: aiohttp.ClientSession
) -> None:
    """A poll answered from before a command must not undo the command's state."""
    client = hostile_client(hostile, session)
    client.poll_interval = 3600.0
    async with client:
        before = client.state
        assert before.status is PrintStatus.PRINTING
        gate = asyncio.Event()
        asked = asyncio.Event()
        # what the server said before the command: had it been applied, status would change
        stale = web.json_response({"state": "Operational", "progress": {"completion": 100}})

        async def slow_job() -> web.Response:
            asked.set()
            await gate.wait()
            return stale

        hostile.slow_job = slow_job
        poll = asyncio.create_task(client.refresh())
        async with asyncio.timeout(WAIT):
            await asked.wait()
        await client._command("api/job", {"command": "pause", "action": "pause"}, "pause")
        polled = asyncio.Event()

        async def next_job() -> web.Response:
            polled.set()
            return hostile.job()

        hostile.slow_job = next_job
        gate.set()
        assert await poll == before
        assert client.state.status is PrintStatus.PRINTING
        async with asyncio.timeout(WAIT):
            await polled.wait()  # an immediate fresh poll is made instead


async def test_server_restart_goes_offline_and_reconnects(
    session: aiohttp.ClientSession,
) -> None:
    sim, _ = await start_sim()
    client = make_client(sim, session)
    client.backoff.initial = 0.05
    client.backoff.maximum = 0.1
    try:
        async with client:
            await sim.stop()
            state = await client.wait_for_state(lambda s: not s.connected, WAIT)
            assert state.status is PrintStatus.OFFLINE
            # the same server comes back on the same port
            sim.options.port = sim.port
            await sim.start()
            state = await client.wait_for_state(lambda s: s.connected, WAIT)
            assert state.status is PrintStatus.PRINTING
            assert client.last_error is not None
    finally:
        await sim.stop()
