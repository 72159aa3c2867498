"""A client for Home Assistant's REST and WebSocket APIs: the add-on's only way into HA.

REST for snapshots (``/api/camera_proxy``), actions (``/api/services``) and events
(``/api/events``); one WebSocket for the registries and for live state changes
(``subscribe_entities``), re-opened with backoff when it drops, its
subscriptions restored. Every answer is bounded in size before it is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
import json
import logging
from typing import Any
import urllib.parse

import aiohttp

LOGGER = logging.getLogger(__name__)

MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_WS_MESSAGE = 64 * 1024 * 1024
REQUEST_TIMEOUT = 20.0
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
#: A WebSocket silent this long gets HA's ping; silent as long again, it is dead. (aiohttp's
#: heartbeat is not used: aiohttp 3.14 can leave its timer behind after a close.)
SILENCE_S = 30.0

type StateListener = Callable[[str, str | None, dict[str, Any]], None]
type EventListener = Callable[[dict[str, Any]], None]


class HaError(Exception):
    """Home Assistant could not be asked, or refused."""


class HaAuthError(HaError):
    """The token was refused."""


class CameraError(HaError):
    """No usable frame: the camera is unavailable or answered something that is not one."""


class HomeAssistantClient:
    """REST and WebSocket calls against one Home Assistant with a bearer token."""

    def __init__(self, session: aiohttp.ClientSession, url: str, ws_url: str, token: str) -> None:
        """``url`` without ``/api`` (``http://supervisor/core`` in the add-on)."""
        self._session = session
        self.url = url.rstrip("/")
        self.ws_url = ws_url
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._state_listeners: list[StateListener] = []
        self._event_listeners: dict[str, list[EventListener]] = {}
        self._watched: set[str] = set()
        self._subscriptions: dict[int, str] = {}  # subscription id -> what it is for
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._on_connect: list[Callable[[], Awaitable[None]]] = []
        self.states: dict[str, str | None] = {}

    @property
    def headers(self) -> dict[str, str]:
        """The bearer header (never logged)."""
        return {"Authorization": f"Bearer {self._token}"}

    # ------------------------------------------------------------------ REST

    async def _request(
        self, method: str, path: str, *, json: Any = None, timeout: float = REQUEST_TIMEOUT
    ) -> Any:
        try:
            async with self._session.request(
                method,
                f"{self.url}/api{path}",
                json=json,
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                body = await response.content.read(MAX_JSON_BYTES + 1)
                if response.status == 401:
                    raise HaAuthError("Home Assistant refused the token")
                if len(body) > MAX_JSON_BYTES:
                    raise HaError(f"{method} {path}: answer too large")
                if response.status >= 400:
                    text = body[:300].decode("utf-8", "replace")
                    raise HaError(f"{method} {path}: HTTP {response.status}: {text}")
                if not body:
                    return None
                try:
                    return _json_loads(body)
                except ValueError as err:
                    raise HaError(f"{method} {path}: answer is not JSON") from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise HaError(f"{method} {path}: {err or type(err).__name__}") from err

    async def config(self) -> dict[str, Any]:
        """``GET /api/config`` (version, state, components)."""
        result = await self._request("GET", "/config")
        if not isinstance(result, dict):
            raise HaError("GET /config: unexpected answer")
        return result

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """One entity's state object, or None when it does not exist."""
        try:
            result = await self._request("GET", f"/states/{_quote(entity_id)}")
        except HaError as err:
            if "HTTP 404" in str(err):
                return None
            raise
        return result if isinstance(result, dict) else None

    async def call_service(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        return_response: bool = False,
        timeout: float = REQUEST_TIMEOUT,
    ) -> Any:
        """Call an action; its response data when ``return_response``."""
        path = f"/services/{_quote(domain)}/{_quote(service)}"
        if return_response:
            path += "?return_response"
        return await self._request("POST", path, json=dict(data or {}), timeout=timeout)

    async def has_service(self, domain: str, service: str) -> bool:
        """Whether Home Assistant offers an action."""
        services = await self._request("GET", "/services")
        if not isinstance(services, list):
            return False
        for entry in services:
            if isinstance(entry, dict) and entry.get("domain") == domain:
                return service in (entry.get("services") or {})
        return False

    async def fire_event(self, event_type: str, data: Mapping[str, Any]) -> None:
        """Fire an event on Home Assistant's bus."""
        await self._request("POST", f"/events/{_quote(event_type)}", json=dict(data))

    async def camera_image(self, entity_id: str, *, max_bytes: int, timeout: float) -> bytes:
        """One frame from HA's camera proxy (the printer's own limits apply there)."""
        url = f"{self.url}/api/camera_proxy/{_quote(entity_id)}"
        try:
            async with self._session.get(
                url, headers=self.headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                if response.status == 401:
                    raise HaAuthError("Home Assistant refused the token")
                if response.status != 200:
                    raise CameraError(f"camera proxy answered HTTP {response.status}")
                length = response.content_length
                if length is not None and length > max_bytes:
                    raise CameraError(f"frame of {length} bytes is larger than {max_bytes}")
                body = await response.content.read(max_bytes + 1)
                if len(body) > max_bytes:
                    raise CameraError(f"frame is larger than {max_bytes} bytes")
                kind = response.content_type
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CameraError(f"camera proxy: {err or type(err).__name__}") from err
        if not kind.startswith("image/"):
            raise CameraError(f"camera proxy answered {kind or 'no content type'}, not an image")
        return body

    # ------------------------------------------------------------- WebSocket

    def add_state_listener(self, listener: StateListener) -> None:
        """Called with (entity_id, state or None when removed, attributes) on every change."""
        self._state_listeners.append(listener)

    def add_event_listener(self, event_type: str, listener: EventListener) -> None:
        """Called with the event's data for each ``event_type`` event (subscribed on connect)."""
        self._event_listeners.setdefault(event_type, []).append(listener)

    def on_connect(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Awaited after every (re)connection, once subscriptions are restored."""
        self._on_connect.append(callback)

    @property
    def connected(self) -> bool:
        """Whether the WebSocket is up."""
        return self._connected.is_set()

    async def start(self) -> None:
        """Connect once (raises on a refused token) and keep the connection up afterwards."""
        await self._open()
        self._reader = asyncio.create_task(self._run(), name="ha-websocket")

    async def close(self) -> None:
        """Close the WebSocket and stop reconnecting."""
        self._closing = True
        ws = self._ws
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for socket_ in (ws, self._ws):
            if socket_ is not None and not socket_.closed:
                await socket_.close()
        self._fail_pending(HaError("closed"))

    async def _open(self) -> None:
        try:
            ws = await self._session.ws_connect(self.ws_url, max_msg_size=MAX_WS_MESSAGE)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise HaError(f"WebSocket {self.ws_url}: {err or type(err).__name__}") from err
        try:
            hello = await ws.receive_json(timeout=30)
            if hello.get("type") != "auth_required":
                raise HaError("unexpected WebSocket greeting")
            await ws.send_json({"type": "auth", "access_token": self._token})
            answer = await ws.receive_json(timeout=30)
        except (TypeError, ValueError, aiohttp.ClientError, TimeoutError) as err:
            await ws.close()
            raise HaError(f"WebSocket handshake failed: {err}") from err
        if answer.get("type") != "auth_ok":
            await ws.close()
            raise HaAuthError("Home Assistant refused the token on the WebSocket")
        self._ws = ws
        self._connected.set()

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            if self._ws is None:
                try:
                    await self._open()
                except HaAuthError:
                    LOGGER.error("Home Assistant refused the token; not reconnecting")  # noqa: TRY400
                    return
                except HaError as err:
                    delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                    attempt += 1
                    LOGGER.debug("WebSocket reconnect failed (%s); retrying in %.0f s", err, delay)
                    await asyncio.sleep(delay)
                    continue
                LOGGER.info("Reconnected to Home Assistant")
            attempt = 0
            ws = self._ws
            assert ws is not None
            restore = asyncio.create_task(self._restore())
            try:
                await self._read(ws)
            finally:
                restore.cancel()
                self._connected.clear()
                self._ws = None
                self._subscriptions.clear()
                self._fail_pending(HaError("WebSocket closed"))
            if not self._closing:
                LOGGER.warning("Lost the WebSocket to Home Assistant; reconnecting")

    async def _restore(self) -> None:
        """Subscriptions and on-connect callbacks, run after each (re)connection."""
        try:
            await self._subscribe_states()
            for event_type in self._event_listeners:
                await self._subscribe(
                    {"type": "subscribe_events", "event_type": event_type}, f"event:{event_type}"
                )
            for callback in self._on_connect:
                await callback()
        except HaError as err:
            LOGGER.warning("Could not restore Home Assistant subscriptions: %s", err)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        probed = False
        while True:
            try:
                message = await ws.receive(timeout=SILENCE_S)
            except TimeoutError:
                if probed:
                    LOGGER.warning("No answer from Home Assistant for %.0f s", 2 * SILENCE_S)
                    return
                probed = True
                msg_id, self._next_id = self._next_id, self._next_id + 1
                try:
                    await ws.send_json({"id": msg_id, "type": "ping"})
                except (aiohttp.ClientError, ConnectionError, RuntimeError):
                    return
                continue
            probed = False
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            try:
                data = _json_loads(message.data)
            except ValueError:
                LOGGER.debug("Ignoring a WebSocket message that is not JSON")
                continue
            for item in data if isinstance(data, list) else [data]:
                if isinstance(item, dict):
                    self._dispatch(item)

    def _dispatch(self, message: dict[str, Any]) -> None:
        msg_id = message.get("id")
        kind = message.get("type")
        if kind == "result" and isinstance(msg_id, int):
            future = self._pending.pop(msg_id, None)
            if future is not None and not future.done():
                if message.get("success"):
                    future.set_result(message.get("result"))
                else:
                    error = message.get("error") or {}
                    future.set_exception(HaError(str(error.get("message", "command failed"))))
            return
        if kind != "event" or not isinstance(msg_id, int):
            return
        purpose = self._subscriptions.get(msg_id)
        event = message.get("event")
        if not isinstance(event, dict):
            return
        if purpose == "states":
            self._apply_entities(event)
        elif purpose is not None and purpose.startswith("event:"):
            data = event.get("data")
            for listener in self._event_listeners.get(purpose[6:], []):
                listener(data if isinstance(data, dict) else {})

    def _apply_entities(self, event: dict[str, Any]) -> None:
        """``subscribe_entities``' compressed additions (a), changes (c) and removals (r)."""
        for entity_id, item in (event.get("a") or {}).items():
            if isinstance(item, dict):
                attrs = item.get("a")
                self._set_state(entity_id, item.get("s"), attrs if isinstance(attrs, dict) else {})
        for entity_id, diff in (event.get("c") or {}).items():
            plus = diff.get("+") if isinstance(diff, dict) else None
            if isinstance(plus, dict) and "s" in plus:
                attrs = plus.get("a")
                self._set_state(entity_id, plus.get("s"), attrs if isinstance(attrs, dict) else {})
        for entity_id in event.get("r") or []:
            if isinstance(entity_id, str):
                self._set_state(entity_id, None, {})

    def _set_state(self, entity_id: str, state: object, attributes: dict[str, Any]) -> None:
        value = state if isinstance(state, str) else None
        self.states[entity_id] = value
        for listener in self._state_listeners:
            try:
                listener(entity_id, value, attributes)
            except Exception:
                LOGGER.exception("State listener failed for %s", entity_id)

    def _fail_pending(self, error: HaError) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def _subscribe(self, command: Mapping[str, Any], purpose: str) -> int:
        """Subscribe; events are routed by ``purpose`` from the first one on."""
        msg_id = self._next_id
        self._subscriptions[msg_id] = purpose  # events may follow the result at once
        try:
            await self.command(command)
        except HaError:
            self._subscriptions.pop(msg_id, None)
            raise
        return msg_id

    async def command(self, command: Mapping[str, Any], timeout: float = REQUEST_TIMEOUT) -> Any:
        """One WebSocket command; its result."""
        ws = self._ws
        if ws is None:
            raise HaError("not connected to Home Assistant")
        msg_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await ws.send_json({"id": msg_id, **command})
            async with asyncio.timeout(timeout):
                return await future
        except (aiohttp.ClientError, ConnectionError, TimeoutError) as err:
            raise HaError(f"{command.get('type')}: {err or type(err).__name__}") from err
        finally:
            self._pending.pop(msg_id, None)

    async def watch(self, entity_ids: set[str]) -> None:
        """Follow these entities' states (replacing the previous set)."""
        if entity_ids == self._watched:
            return
        self._watched = set(entity_ids)
        if self.connected:
            await self._subscribe_states()

    async def _subscribe_states(self) -> None:
        for sub_id, purpose in list(self._subscriptions.items()):
            if purpose == "states":
                del self._subscriptions[sub_id]
                with contextlib.suppress(HaError):
                    await self.command({"type": "unsubscribe_events", "subscription": sub_id})
        if self._watched:
            await self._subscribe(
                {"type": "subscribe_entities", "entity_ids": sorted(self._watched)}, "states"
            )


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _json_loads(raw: str | bytes) -> Any:
    return json.loads(raw)
