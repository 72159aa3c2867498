"""OctoPrintClient against servers a test controls: look-alikes, bad answers, stalls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import logging
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterConnectionError,
    PrinterProtocolError,
    PrintStatus,
)
from custom_components.printfarm.printers.octoprint import OctoPrintClient

from .conftest import WAIT, allow_loopback, make_client, start_sim, status_is

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
