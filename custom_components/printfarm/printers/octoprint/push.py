"""Push from OctoPrint's raw SockJS websocket (``/sockjs/websocket``).

The socket speaks plain JSON messages (no SockJS framing on the raw
endpoint). Authentication: ``POST /api/login {"passive": true}`` with the
API key returns ``name`` and ``session``; the client then sends
``{"auth": "<name>:<session>"}``. OctoPrint sends ``connected`` first, then
``history`` once and ``current`` on every change (throttled to ~2/s); each
carries ``state``, ``job``, ``progress`` and ``temps``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import json
import logging
from typing import Any

import aiohttp
from yarl import URL

from ..base import MAX_MESSAGE_BYTES
from ..exceptions import PrinterConnectionError, PrinterProtocolError
from .parse import Heater, JobReport, as_dict, as_str, parse_current

_LOGGER = logging.getLogger(__name__)

CurrentCallback = Callable[
    [str | None, dict[str, bool], JobReport, tuple[Heater | None, Heater | None, Heater | None]],
    None,
]


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
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self) -> None:
        """Log in passively, open the socket and authenticate it."""
        try:
            async with self._session.post(
                self._base.join(URL("api/login")),
                json={"passive": True},
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as resp:
                status = resp.status
                body = await resp.json(content_type=None) if status == 200 else None
            _check_login(status)
            data = as_dict(body)
            name, session = as_str(data.get("name")), as_str(data.get("session"))
            if name is None or session is None:
                raise PrinterProtocolError("/api/login: no name/session in the answer")
            url = self._base.join(URL("sockjs/websocket"))
            self._ws = await self._session.ws_connect(
                url,
                timeout=aiohttp.ClientWSTimeout(ws_close=self._timeout),
                max_msg_size=MAX_MESSAGE_BYTES,
                heartbeat=None,
            )
            await self._ws.send_str(json.dumps({"auth": f"{name}:{session}"}))
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as err:
            await self.close()
            raise PrinterConnectionError(f"push socket: {err}") from err

    async def run(self, silence_timeout: float) -> None:
        """Read messages until the socket closes or stays silent too long."""
        ws = self._ws
        if ws is None:
            raise PrinterConnectionError("push socket is not open")
        while True:
            try:
                async with asyncio.timeout(silence_timeout):
                    msg = await ws.receive()
            except TimeoutError as err:
                raise PrinterConnectionError(f"no push message for {silence_timeout:g} s") from err
            if msg.type is not aiohttp.WSMsgType.TEXT:
                if msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.ERROR,
                ):
                    raise PrinterConnectionError("push socket closed")
                continue
            self._handle(msg.data)

    def _handle(self, raw: str) -> None:
        try:
            message: Any = json.loads(raw)
        except ValueError:
            _LOGGER.debug("Ignoring a push message that is not JSON")
            return
        if not isinstance(message, dict):
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
        """Close the socket; idempotent."""
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()


def _check_login(status: int) -> None:
    """A refused passive login only means "no push": polling still works."""
    if status != 200:
        raise PrinterProtocolError(f"/api/login: HTTP {status}")
