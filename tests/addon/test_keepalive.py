"""Silence on the add-on's WebSockets: a quiet peer is asked or heard from, a dead one is left.

aiohttp's own heartbeat is not used on these sockets (aiohttp 3.14 can leave its timer
behind after a close, in Home Assistant's process too), so each side watches silence
itself: the add-on pings Home Assistant, the add-on's stream sends keepalives, and the
integration's client gives up on a stream that says nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any, cast

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
import pytest

from custom_components.printfarm.addon import client as addon_client
from custom_components.printfarm.addon.client import DetectionClient, DetectionConnectionError
from ml_addon.printfarm_addon import api as addon_api, ha as addon_ha
from ml_addon.printfarm_addon.ha import HomeAssistantClient
from ml_addon.printfarm_addon.service import Service
from tests.devtools.conftest import served

from .test_api_and_actions import client_for, service  # noqa: F401 - the service fixture


async def test_quiet_home_assistant_is_pinged_and_stays_connected(
    hass: HomeAssistant,
    aiohttp_client: Any,
    hass_access_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(addon_ha, "SILENCE_S", 0.05)
    base = await served(hass, aiohttp_client, "api", "websocket_api")
    connects = asyncio.Queue[None]()
    pongs = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        ha = HomeAssistantClient(session, base, base + "/api/websocket", hass_access_token)

        async def on_connect() -> None:
            connects.put_nowait(None)

        ha.on_connect(on_connect)
        dispatch = ha._dispatch

        def watch(message: dict[str, Any]) -> None:
            if message.get("type") == "pong":
                pongs.set()
            dispatch(message)

        monkeypatch.setattr(ha, "_dispatch", watch)
        await ha.start()
        try:
            await asyncio.wait_for(connects.get(), 10)
            await asyncio.wait_for(pongs.wait(), 10)  # Home Assistant answered the probe
            assert connects.empty()  # and the connection was kept
        finally:
            await ha.close()


async def test_home_assistant_that_stops_answering_is_left_and_reconnected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(addon_ha, "SILENCE_S", 0.05)
    opened = asyncio.Queue[None]()

    async def mute_home_assistant(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "auth_required"})
        await ws.receive()
        await ws.send_json({"type": "auth_ok"})
        opened.put_nowait(None)
        async for _message in ws:  # reads the pings, never answers
            pass
        return ws

    app = web.Application()
    app.router.add_get("/api/websocket", mute_home_assistant)
    server = TestServer(app)
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        ha = HomeAssistantClient(session, base, base + "/api/websocket", "token")
        await ha.start()
        try:
            await asyncio.wait_for(opened.get(), 10)
            await asyncio.wait_for(opened.get(), 10)  # silence: a second connection
        finally:
            await ha.close()
            await server.close()


async def test_stream_sends_keepalives_when_nothing_happens(
    service: Service,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(addon_api, "KEEPALIVE_S", 0.05)
    client = await client_for(service.api.app(ui=False))
    try:
        ws = await client.ws_connect(
            "/api/v1/stream", headers={"Authorization": f"Bearer {service.api_key}"}
        )
        first = await ws.receive_json(timeout=10)
        assert first["type"] == "printers"
        assert (await ws.receive_json(timeout=10)) == {"type": "keepalive"}
        await ws.close()
    finally:
        await client.close()


async def test_integration_gives_up_on_a_silent_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(addon_client, "STREAM_SILENCE_S", 0.05)

    async def silent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "printers", "printers": []})
        async for _message in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/api/v1/stream", silent)
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        detection = DetectionClient(session, str(server.make_url("")), "key")
        stream = cast(AsyncGenerator[Any], detection.stream())
        try:
            assert await anext(stream) == {}
            with pytest.raises(DetectionConnectionError, match="no message"):
                await anext(stream)
        finally:
            await stream.aclose()
            await server.close()
