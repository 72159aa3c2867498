"""JSON-RPC 2.0 over Moonraker's ``/websocket``: requests, replies, notifications.

One reader loop owns the socket. Replies resolve the caller's future by id
(through the client's pending replies); notifications (messages without
``id``) go to a callback. Frames that are not JSON-RPC are logged at debug
and dropped; a frame over the size limit ends the connection. Whether the
link is alive is the client heartbeat's business (a ``server.info`` round
trip), not the reader's.
"""

from __future__ import annotations

from collections.abc import Callable
import itertools
import json
import logging
from typing import Any

from ..coerce import as_dict, brief, decode_message
from ..exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
)
from ..http import WebSocket
from ..plumbing import Pending

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
        super().__init__(f"{method}: {message}")
        self.code = code


class RpcConnection:
    """A JSON-RPC session over one open websocket."""

    def __init__(
        self,
        ws: WebSocket,
        on_notification: NotificationHandler,
        replies: Pending[int, Any],
    ) -> None:
        """Wrap an open websocket; call :meth:`run` to start reading."""
        self._ws = ws
        self._on_notification = on_notification
        self._replies = replies
        self._ids = itertools.count(1)
        self.closed = False

    async def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> Any:
        """Send a request and return its ``result``; raise on error or timeout."""
        if self.closed or self._ws.closed:
            raise PrinterConnectionError(f"{method}: the websocket is closed")
        request_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        self._replies.expect(request_id)
        try:
            await self._ws.send_text(json.dumps(message))
        except PrinterConnectionError:
            self._replies.discard(request_id)
            raise
        return await self._replies.wait(request_id, timeout, method)

    async def run(self) -> None:
        """Read until the socket dies; always ends by raising a PrinterError."""
        try:
            while True:
                self.dispatch(await self._ws.receive_text())
        finally:
            self.closed = True

    def dispatch(self, text: str) -> None:
        """Handle one frame: a reply, a notification, or something to drop."""
        message = decode_message(text, "websocket frame", "Moonraker")
        if message is None:
            return
        request_id = message.get("id")
        if isinstance(request_id, int) and ("result" in message or "error" in message):
            if "error" in message:
                self._replies.reject(request_id, rpc_error(request_id, message["error"]))
            else:
                self._replies.resolve(request_id, message["result"])
            return
        name = message.get("method")
        if isinstance(name, str):
            params = message.get("params")
            self._on_notification(name, params if isinstance(params, list) else [])
            return
        _LOGGER.debug("Ignoring JSON-RPC frame without id or method: %s", brief(message))

    async def close(self) -> None:
        """Close the websocket; idempotent, never raises."""
        self.closed = True
        await self._ws.close()


def rpc_error(method: object, error: Any) -> PrinterError:
    """The typed error for a JSON-RPC ``error`` object."""
    data = as_dict(error)
    code = data.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    message = data.get("message")
    text = message if isinstance(message, str) else "unknown error"
    if code in _AUTH_CODES or text.strip().lower() in _AUTH_MESSAGES:
        return PrinterAuthError(f"{method}: Moonraker refused the credentials")
    return MoonrakerRpcError(str(method), code, text[:200])


_rpc_error = rpc_error
