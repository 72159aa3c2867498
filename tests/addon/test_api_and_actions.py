"""The add-on's HTTP side (API key, ingress-only UI), Supervisor discovery, printers from the
registries, and actions through Home Assistant (AI Task second opinion, pause targets)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse
import pytest

from ml_addon.printfarm_addon.actions import Actions, parse_opinion
from ml_addon.printfarm_addon.config import Environment, ExtraCamera, Options
from ml_addon.printfarm_addon.ha import HaAuthError, HomeAssistantClient
from ml_addon.printfarm_addon.printers import PrinterSpec, all_printers
from ml_addon.printfarm_addon.service import Service
from tests.devtools.conftest import served


def environment(tmp_path: Path, **changes: Any) -> Environment:
    values: dict[str, Any] = {
        "ha_url": "http://127.0.0.1:9",
        "ws_url": "ws://127.0.0.1:9/api/websocket",
        "token": "token",
        "options_path": tmp_path / "options.json",
        "data_dir": tmp_path / "data",
        "config_dir": tmp_path / "config",
        "media_dir": None,
        "supervisor": False,
        "ui_port": 0,
        "api_port": 0,
        "ingress_peer": None,
    }
    values.update(changes)
    return Environment(**values)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncGenerator[Service]:
    running = Service(environment(tmp_path), Options(threads=1))
    yield running
    await running.stop()


async def client_for(app: web.Application) -> TestClient[web.Request, web.Application]:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_api_needs_the_key_but_health_does_not(service: Service) -> None:
    client = await client_for(service.api.app(ui=False))
    try:
        assert (await client.get("/api/v1/printers")).status == 401
        wrong = await client.get("/api/v1/printers", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        good = {"Authorization": f"Bearer {service.api_key}"}
        answer = await client.get("/api/v1/printers", headers=good)
        assert answer.status == 200
        assert await answer.json() == {"printers": []}
        info = await (await client.get("/api/v1/info", headers=good)).json()
        assert info["uuid"] == service.uuid
        assert (await client.get("/health")).status == 200
        # The key and the UI page are not on the API listener.
        assert (await client.get("/api/v1/connection", headers=good)).status == 404
        assert (await client.get("/", headers=good)).status == 404
        missing = await client.post(
            "/api/v1/printers/nope/settings", json={"enabled": False}, headers=good
        )
        assert missing.status == 404
    finally:
        await client.close()
    key_file = service.env.data_dir / "api_key"
    assert key_file.read_text().strip() == service.api_key
    assert key_file.stat().st_mode & 0o077 == 0


async def test_ui_answers_only_the_ingress_proxy(tmp_path: Path, service: Service) -> None:
    closed = await client_for(service.api.app(ui=True, peer="172.30.32.2"))
    try:
        assert (await closed.get("/")).status == 403
        assert (await closed.get("/api/v1/printers")).status == 403
    finally:
        await closed.close()
    open_ = await client_for(service.api.app(ui=True, peer=None))
    try:
        page = await open_.get("/")
        assert page.status == 200
        assert "Print watch" in await page.text()
        connection = await (await open_.get("/api/v1/connection")).json()
        assert connection["api_key"] == service.api_key
        bad = await open_.post("/api/v1/printers/x/feedback", data=b"{not json")
        assert bad.status in (400, 404)
    finally:
        await open_.close()


async def test_supervisor_discovery_announces_the_api(tmp_path: Path) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def discovery(request: web.Request) -> web.Response:
        received.append((request.headers.get("Authorization"), await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": "x"}})

    supervisor = web.Application()
    supervisor.router.add_post("/discovery", discovery)
    fake = await client_for(supervisor)
    try:
        env = environment(
            tmp_path, supervisor=True, supervisor_url=str(fake.make_url("")).rstrip("/")
        )
        announcing = Service(env, Options(threads=1))
        try:
            assert await announcing.announce()
        finally:
            await announcing.stop()
    finally:
        await fake.close()
    header, payload = received[0]
    assert header == "Bearer token"
    assert payload["service"] == "printfarm"
    assert payload["config"]["api_key"] == announcing.api_key
    assert payload["config"]["uuid"] == announcing.uuid
    assert payload["config"]["port"] == announcing.api_port
    assert isinstance(payload["config"]["host"], str)


def test_printers_come_from_the_registries_and_the_extra_cameras() -> None:
    entities = [
        {"entity_id": "camera.voron_camera", "platform": "printfarm", "device_id": "d1"},
        {
            "entity_id": "sensor.voron_status",
            "platform": "printfarm",
            "device_id": "d1",
            "translation_key": "status",
        },
        {
            "entity_id": "button.voron_pause",
            "platform": "printfarm",
            "device_id": "d1",
            "translation_key": "pause",
        },
        {
            "entity_id": "sensor.voron_job",
            "platform": "printfarm",
            "device_id": "d1",
            "translation_key": "job_name",
        },
        # a printer without a camera, and a disabled camera: not watched
        {
            "entity_id": "sensor.mini_status",
            "platform": "printfarm",
            "device_id": "d2",
            "translation_key": "status",
        },
        {
            "entity_id": "camera.x1_camera",
            "platform": "printfarm",
            "device_id": "d3",
            "disabled_by": "user",
        },
        # another integration's camera on its own device
        {"entity_id": "camera.ender", "platform": "octoprint", "device_id": "d4"},
    ]
    devices: list[dict[str, Any]] = [
        {"id": "d1", "name": "Voron", "name_by_user": None},
        {"id": "d4", "name": "Ender 3", "name_by_user": "Ender"},
    ]
    extra = [
        ExtraCamera(
            camera="camera.ender", pause="button.ender_pause", status="binary_sensor.ender_printing"
        ),
        ExtraCamera(camera="camera.voron_camera", pause="script.careful_pause"),
        ExtraCamera(camera="camera.garage"),
    ]
    specs = {spec.key: spec for spec in all_printers(entities, devices, extra)}
    assert set(specs) == {"d1", "d4", "camera.garage"}
    voron = specs["d1"]
    assert voron.printfarm
    assert (voron.camera, voron.status, voron.job) == (
        "camera.voron_camera",
        "sensor.voron_status",
        "sensor.voron_job",
    )
    assert voron.pause == "script.careful_pause"  # the user's entry overrides
    assert voron.printing("printing")
    assert not voron.printing("paused")
    ender = specs["d4"]
    assert ender.name == "Ender"
    assert ender.printing("on")
    assert not ender.printing("off")
    assert specs["camera.garage"].printing(None) is None  # no status: always watched


# Home Assistant's own WebSocket server (not the add-on) leaves aiohttp 3.14's heartbeat
# timer behind when it turns away the refused token below; HA 2025.4's aiohttp does not.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_ai_task_second_opinion_through_home_assistant(
    hass: HomeAssistant, aiohttp_client: Any, hass_access_token: str
) -> None:
    asked: list[dict[str, Any]] = []

    async def generate(call: ServiceCall) -> dict[str, Any]:
        asked.append(dict(call.data))
        return {
            "conversation_id": "c1",
            "data": {"failure": False, "reason": "A clean first layer."},
        }

    hass.services.async_register(
        "ai_task", "generate_data", generate, supports_response=SupportsResponse.ONLY
    )
    base = await served(hass, aiohttp_client, "api", "websocket_api")
    import aiohttp

    async with aiohttp.ClientSession() as session:
        ha = HomeAssistantClient(session, base, base + "/api/websocket", hass_access_token)
        spec = PrinterSpec(key="d1", name="Voron", camera="camera.voron_camera")
        with_task = Actions(ha, Options(ai_task_entity="ai_task.openai"), media_dir=None)
        opinion = await with_task.second_opinion(spec, "printfarm/detections/voron/7.jpg")
        assert opinion is not None
        assert opinion.failure is False
        assert opinion.text == "A clean first layer."
        request = asked[0]
        assert request["entity_id"] == "ai_task.openai"
        assert request["attachments"][0]["media_content_id"].endswith("voron/7.jpg")
        # Without an AI Task entity nothing is asked.
        assert await Actions(ha, Options(), media_dir=None).second_opinion(spec, None) is None
        assert len(asked) == 1
        # A refused token is a clear error.
        refused = HomeAssistantClient(session, base, base + "/api/websocket", "bad-token")
        with pytest.raises(HaAuthError):
            await refused.config()
        with pytest.raises(HaAuthError):
            await refused.start()


def test_ai_task_answers_of_other_shapes() -> None:
    text = parse_opinion({"service_response": {"data": "Looks like spaghetti."}})
    assert text is not None
    assert text.failure is None
    assert parse_opinion({"service_response": {}}) is None
    assert parse_opinion("nonsense") is None


async def test_websocket_reconnects_and_keeps_following_states(
    hass: HomeAssistant, aiohttp_client: Any, hass_access_token: str
) -> None:
    import asyncio

    import aiohttp

    base = await served(hass, aiohttp_client, "api", "websocket_api")
    hass.states.async_set("sensor.voron_status", "printing")
    seen: list[tuple[str, str | None]] = []
    changed = asyncio.Event()
    connected = asyncio.Queue[None]()

    def listener(entity_id: str, state: str | None, _attributes: dict[str, Any]) -> None:
        seen.append((entity_id, state))
        changed.set()

    async def on_connect() -> None:
        connected.put_nowait(None)

    async with aiohttp.ClientSession() as session:
        ha = HomeAssistantClient(session, base, base + "/api/websocket", hass_access_token)
        ha.add_state_listener(listener)
        ha.on_connect(on_connect)
        await ha.watch({"sensor.voron_status"})
        await ha.start()
        try:
            await asyncio.wait_for(connected.get(), 10)
            await asyncio.wait_for(changed.wait(), 10)
            assert seen[-1] == ("sensor.voron_status", "printing")
            # The connection drops (Home Assistant restarting): the client opens a new one,
            # subscribes again and keeps reporting changes.
            assert ha._ws is not None
            await ha._ws.close()
            await asyncio.wait_for(connected.get(), 15)
            changed.clear()
            hass.states.async_set("sensor.voron_status", "paused")
            await asyncio.wait_for(changed.wait(), 10)
            assert seen[-1] == ("sensor.voron_status", "paused")
            assert ha.states["sensor.voron_status"] == "paused"
        finally:
            await ha.close()
