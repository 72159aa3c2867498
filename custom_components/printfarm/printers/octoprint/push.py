"""Push from OctoPrint's raw SockJS websocket (``/sockjs/websocket``).

The socket speaks plain JSON messages (no SockJS framing on the raw
endpoint). Authentication: ``POST /api/login {"passive": true}`` with the
API key returns ``name`` and ``session``; the client then sends
``{"auth": "<name>:<session>"}``. OctoPrint sends ``connected`` first, then
``history`` once and ``current`` on every change (throttled to ~2/s); each
carries ``state``, ``job``, ``progress`` and ``temps``.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import logging

import aiohttp
from yarl import URL

from ..coerce import as_dict, as_text, decode_json, decode_message
from ..exceptions import PrinterConnectionError, PrinterError, PrinterProtocolError
from ..http import WebSocket, connect_websocket, request
from .parse import Heater, JobReport, parse_current

_LOGGER = logging.getLogger(__name__)

CurrentCallback = Callable[
    [str | None, dict[str, bool], JobReport, tuple[Heater | None, Heater | None, Heater | None]],
    None,
]
#: The login answer is a user record of a few hundred bytes.
_LOGIN_LIMIT = 64 * 1024


class PushSession:
    """One authenticated websocket to OctoPrint, feeding ``current`` messages."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: URL,
        headers: dict[str, str],
        timeout: float,
        *,
        on_current: CurrentCallback,
    ) -> None:
        """Keep what ``open()`` needs."""
        self._session = session
        self._base = base_url
        self._headers = headers
        self._timeout = timeout
        self._on_current = on_current
        self._ws: WebSocket | None = None

    async def open(self) -> None:
        """Log in passively, open the socket and authenticate it (typed errors only)."""
        try:
            reply = await request(
                self._session,
                "POST",
                self._base.join(URL("api/login")),
                timeout=self._timeout,
                what="/api/login",
                limit=_LOGIN_LIMIT,
                headers=self._headers,
                json={"passive": True},
            )
            if reply.status != 200:
                # a refused passive login only means "no push": polling still works
                raise PrinterProtocolError(f"/api/login: HTTP {reply.status}")
            data = as_dict(decode_json(reply.body, "/api/login"))
            name, session = as_text(data.get("name")), as_text(data.get("session"))
            if name is None or session is None:
                raise PrinterProtocolError("/api/login: no name/session in the answer")
            self._ws = await connect_websocket(
                self._session,
                self._base.join(URL("sockjs/websocket")),
                timeout=self._timeout,
                what="push socket",
                close_timeout=self._timeout,
            )
            await self._ws.send_text(json.dumps({"auth": f"{name}:{session}"}))
        except PrinterError:
            await self.close()
            raise
        except aiohttp.WSServerHandshakeError as err:
            await self.close()
            raise PrinterConnectionError(f"push socket: HTTP {err.status}") from err

    async def run(self, silence_timeout: float) -> None:
        """Read messages until the socket closes or stays silent too long."""
        ws = self._ws
        if ws is None:
            raise PrinterConnectionError("push socket is not open")
        while True:
            try:
                text = await ws.receive_text(silence_timeout)
            except TimeoutError as err:
                raise PrinterConnectionError(f"no push message for {silence_timeout:g} s") from err
            self.handle(text)

    def handle(self, raw: str) -> None:
        """One push message: ``current`` and ``history`` reach the client, the rest is dropped."""
        message = decode_message(raw, "push message", str(self._base.host))
        if message is None:
            return
        for key in ("current", "history"):
            if key in message and isinstance(message[key], dict):
                current = parse_current(message[key])
                self._on_current(
                    current.text,
                    current.flags,
                    current.job,
                    (current.tool0, current.bed, current.chamber),
                )

    async def close(self) -> None:
        """Close the socket; idempotent, never raises."""
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
