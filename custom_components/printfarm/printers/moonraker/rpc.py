"""JSON-RPC 2.0 over Moonraker's ``/websocket``: requests, replies, notifications.

One reader loop owns the socket. Replies resolve the caller's future by id;
notifications (messages without ``id``) go to a callback. Frames that are
not JSON-RPC are logged at debug and dropped. Silence is watched by an
application probe when no message at all arrived for ``silence_timeout``
seconds (a real Moonraker pushes ``notify_proc_stat_update`` every second).
aiohttp's own websocket heartbeat is not used: aiohttp 3.14 can re-arm its
timer after the socket closed, leaving a timer behind in Home Assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import itertools
import json
import logging
from typing import Any

import aiohttp

from ..exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterProtocolError,
)

_LOGGER = logging.getLogger(__name__)

NotificationHandler = Callable[[str, list[Any]], None]

#: JSON-RPC error codes and messages Moonraker uses for refused credentials.
#: Moonraker 0.11 accepts the websocket upgrade without a valid key and then
#: answers every call with code -32602 "Unauthorized" ("Invalid API Key" for
#: identify); some versions and proxies use 401/403.
_AUTH_CODES = frozenset({401, 403})
_AUTH_MESSAGES = frozenset({"unauthorized", "invalid api key", "forbidden"})


class MoonrakerRpcError(PrinterCommandError):
    """Moonraker answered a call with a JSON-RPC error."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        """Keep the JSON-RPC error code."""
        super().__init__(f"{method}: {message}", reason="rejected")
        self.code = code


class RpcConnection:
    """A JSON-RPC session over one open websocket."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        on_notification: NotificationHandler,
        *,
        silence_timeout: float = 30.0,
    ) -> None:
        """Wrap an open websocket; call :meth:`run` to start reading."""
        self._ws = ws
        self._on_notification = on_notification
        self._silence_timeout = silence_timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._probe: int | None = None
        self.closed = False

    async def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> Any:
        """Send a request and return its ``result``; raise on error or timeout."""
        if self.closed or self._ws.closed:
            raise PrinterConnectionError(f"{method}: the websocket is closed")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (method, future)
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        try:
            await self._ws.send_str(json.dumps(message))
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError as err:
            raise PrinterConnectionError(f"{method}: no reply within {timeout:g} s") from err
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            raise PrinterConnectionError(f"{method}: {err}") from err
        finally:
            self._pending.pop(request_id, None)

    async def run(self) -> None:
        """Read until the socket dies; always ends by raising a PrinterError."""
        try:
            while True:
                try:
                    msg = await self._ws.receive(timeout=self._silence_timeout)
                except TimeoutError:
                    await self._on_silence()
                    continue
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._probe = None
                    self._dispatch(msg.data)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    _LOGGER.debug("Ignoring binary websocket frame of %d bytes", len(msg.data))
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    raise PrinterProtocolError(f"websocket error: {msg.data}")
                else:  # CLOSE, CLOSING, CLOSED
                    raise PrinterConnectionError("Moonraker closed the websocket")
        finally:
            self.closed = True
            for _method, future in self._pending.values():
                if not future.done():
                    future.set_exception(PrinterConnectionError("the websocket closed"))
            self._pending.clear()

    async def _on_silence(self) -> None:
        if self._probe is not None:
            raise PrinterConnectionError(
                f"no message from Moonraker for {2 * self._silence_timeout:g} s"
            )
        self._probe = next(self._ids)
        _LOGGER.debug("Websocket silent for %.0f s; probing", self._silence_timeout)
        try:
            await self._ws.send_str(
                json.dumps({"jsonrpc": "2.0", "method": "server.info", "id": self._probe})
            )
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            raise PrinterConnectionError(f"probe failed: {err}") from err

    def _dispatch(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            _LOGGER.debug("Ignoring websocket frame that is not JSON (%d bytes)", len(text))
            return
        if not isinstance(message, dict):
            _LOGGER.debug("Ignoring JSON-RPC frame that is not an object")
            return
        request_id = message.get("id")
        if isinstance(request_id, int) and ("result" in message or "error" in message):
            pending = self._pending.get(request_id)
            if pending is None or pending[1].done():
                return
            method, future = pending
            if "error" in message:
                future.set_exception(_rpc_error(method, message["error"]))
            else:
                future.set_result(message["result"])
            return
        name = message.get("method")
        if isinstance(name, str):
            params = message.get("params")
            self._on_notification(name, params if isinstance(params, list) else [])
            return
        _LOGGER.debug("Ignoring JSON-RPC frame without id or method")

    async def close(self) -> None:
        """Close the websocket; idempotent."""
        self.closed = True
        with contextlib.suppress(Exception):
            await self._ws.close()


def _rpc_error(method: str, error: Any) -> Exception:
    data = error if isinstance(error, dict) else {}
    code = data.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    message = data.get("message")
    text = message if isinstance(message, str) else "unknown error"
    if code in _AUTH_CODES or text.strip().lower() in _AUTH_MESSAGES:
        return PrinterAuthError(f"{method}: Moonraker refused the credentials: {text}")
    return MoonrakerRpcError(method, code, text)
