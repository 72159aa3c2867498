"""aiohttp for the clients: bounded bodies, guarded websockets, typed errors.

Every body is streamed against a cap and refused as soon as it passes it;
an answer cut short is an error, never a result. Websocket frames are
checked by their header as the bytes arrive, so a frame over the limit is
refused before aiohttp would assemble it (aiohttp 3.11 buffers a whole
frame before its own size check).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
import ssl
from typing import Any

import aiohttp

from .exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterProtocolError,
    Reason,
)
from .limits import MAX_IMAGE_BYTES, MAX_MESSAGE_BYTES

_LOGGER = logging.getLogger(__name__)

_DATA_OPCODES = frozenset({0x0, 0x1, 0x2})
_SKIPPED = frozenset({aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG})


def transport_error(err: BaseException, what: str) -> PrinterError:
    """The typed error for a failure of the HTTP transport."""
    if isinstance(err, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
        return PrinterConnectionError(f"{what}: certificate rejected", reason=Reason.CERTIFICATE)
    if isinstance(err, TimeoutError):
        return PrinterConnectionError(f"{what}: timed out", reason=Reason.TIMEOUT)
    if isinstance(err, aiohttp.ClientPayloadError):
        return PrinterProtocolError(f"{what}: the answer was cut short")
    return PrinterConnectionError(f"{what}: {type(err).__name__}: {err}")


async def read_body(response: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    """The whole body, refused once it passes ``limit`` bytes; a short body is an error."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise PrinterProtocolError(
            f"{what}: {declared} bytes is over the {limit}-byte limit", reason=Reason.TOO_LARGE
        )
    data = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        data += chunk
        if len(data) > limit:
            raise PrinterProtocolError(
                f"{what}: the answer is over the {limit}-byte limit", reason=Reason.TOO_LARGE
            )
    if declared is not None and len(data) != declared:
        raise PrinterProtocolError(f"{what}: {len(data)} of {declared} bytes arrived")
    return bytes(data)


@dataclass(frozen=True, slots=True)
class Reply:
    """A fully read HTTP answer."""

    status: int
    content_type: str
    body: bytes
    www_authenticate: str = ""


async def request(
    session: aiohttp.ClientSession,
    method: str,
    url: Any,
    *,
    timeout: float,
    what: str,
    limit: int = MAX_MESSAGE_BYTES,
    headers: dict[str, str] | None = None,
    json: Any = None,
    follow_redirects: bool = False,
) -> Reply:
    """One HTTP request, read whole within ``limit`` and ``timeout``; transport errors typed."""
    try:
        async with (
            asyncio.timeout(timeout),
            session.request(
                method, url, headers=headers, json=json, allow_redirects=follow_redirects
            ) as response,
        ):
            body = await read_body(response, limit, what)
            return Reply(
                response.status,
                response.content_type,
                body,
                response.headers.get("WWW-Authenticate", ""),
            )
    except PrinterError:
        raise
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as err:
        raise transport_error(err, what) from err


#: Content types a camera or thumbnail may come with.
_IMAGE_TYPES = ("image/", "application/octet-stream")


async def fetch_image(
    session: aiohttp.ClientSession,
    url: Any,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    limit: int = MAX_IMAGE_BYTES,
) -> bytes:
    """One image (snapshot, thumbnail), whole and bounded.

    401/403 raise PrinterAuthError; any other answer than an image is
    ``camera_unavailable``. Credentials go only where ``headers`` says, and a
    request that carries them never follows a redirect.
    """
    what = "image"
    reply = await request(
        session,
        "GET",
        url,
        timeout=timeout,
        what=what,
        limit=limit,
        headers=headers,
        follow_redirects=not headers,
    )
    if reply.status in (401, 403):
        raise PrinterAuthError(f"{what}: refused (HTTP {reply.status})")
    if reply.status != 200 or not reply.body:
        raise PrinterCommandError(f"{what}: HTTP {reply.status}", reason=Reason.CAMERA_UNAVAILABLE)
    if reply.content_type and not reply.content_type.startswith(_IMAGE_TYPES):
        raise PrinterCommandError(
            f"{what}: {reply.content_type} is not an image", reason=Reason.CAMERA_UNAVAILABLE
        )
    return reply.body


class _FrameGuard:
    """Stands in front of aiohttp's websocket reader and reads frame headers first.

    A data frame whose declared length is over the limit is dropped whole:
    neither its header nor its payload reaches aiohttp, so nothing of it is
    buffered, and the frames after it are read as usual. A message that only
    grows over the limit through continuation frames cannot be dropped
    cleanly: that cuts the connection.
    """

    def __init__(self, inner: Any, limit: int, cut: Any) -> None:
        self._inner = inner
        self._limit = limit
        self._cut = cut
        self._head = b""
        self._remaining = 0  # payload bytes left in the current frame
        self._drop_frame = False  # the current frame's payload is dropped
        self._drop_message = False  # the current message's data frames are dropped
        self._message = 0  # payload bytes of the message being assembled
        self.dropped = 0
        self.tripped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def feed_eof(self) -> Any:
        return self._inner.feed_eof()

    def feed_data(self, data: bytes) -> Any:
        if self.tripped:
            return False, b""
        passed = self._filter(bytes(data))
        if passed is None:
            self._inner.feed_eof()
            self._cut()
            return False, b""
        return self._inner.feed_data(passed) if passed else (False, b"")

    def _filter(self, data: bytes) -> bytes | None:
        """The bytes of ``data`` that belong to frames within the limit (None: tripped)."""
        out = bytearray()
        at = 0
        while at < len(data) and not self.tripped:
            if self._remaining:
                step = min(self._remaining, len(data) - at)
                if not self._drop_frame:
                    out += data[at : at + step]
                self._remaining -= step
                at += step
                continue
            head = self._head + data[at : at + 14 - len(self._head)]
            need = 2
            if len(head) >= 2:
                size = head[1] & 0x7F
                need = 2 + {126: 2, 127: 8}.get(size, 0) + (4 if head[1] & 0x80 else 0)
            if len(head) < need:
                self._head = head
                return bytes(out)
            at += need - len(self._head)
            self._head = b""
            self._frame(head[:need], out)
        return None if self.tripped else bytes(out)

    def _frame(self, head: bytes, out: bytearray) -> None:
        length = head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(head[2:4], "big")
        elif length == 127:
            length = int.from_bytes(head[2:10], "big")
        self._remaining = length
        opcode = head[0] & 0x0F
        if opcode not in _DATA_OPCODES:  # a control frame (at most 125 bytes): always passed
            self._drop_frame = False
            out += head
            return
        if opcode != 0:  # the first frame of a message
            self._message = 0
            self._drop_message = length > self._limit
            if self._drop_message:
                self.dropped += 1
                _LOGGER.debug("Dropping a websocket message of %d bytes", length)
        self._drop_frame = self._drop_message
        if self._drop_message:
            return
        self._message += length
        if self._message > self._limit:
            self.tripped = True  # grown too large in pieces: no clean way to drop it
            return
        out += head


class WebSocket:
    """An open websocket whose frames are bounded; text in, text out, typed errors."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, limit: int) -> None:
        """Wrap an open socket and put the frame guard in front of its reader."""
        self._ws = ws
        self._guard: _FrameGuard | None = None
        try:
            protocol: Any = ws._conn.protocol  # type: ignore[union-attr]  # noqa: SLF001
            parser = protocol._payload_parser  # noqa: SLF001
            if parser is not None:
                self._guard = _FrameGuard(parser, limit, protocol.transport.abort)
                protocol._payload_parser = self._guard  # noqa: SLF001
        except AttributeError:  # another aiohttp: it checks frame headers itself (3.14)
            _LOGGER.debug("aiohttp %s: websocket frame guard not installed", aiohttp.__version__)

    @property
    def closed(self) -> bool:
        """Whether the socket is closed."""
        return self._ws.closed

    @property
    def close_code(self) -> int | None:
        """The close code the server sent, if any."""
        return self._ws.close_code

    async def receive_text(self, timeout: float | None = None) -> str:
        """The next text message (other frames are skipped); raises when the socket ends.

        TimeoutError when nothing arrives within ``timeout`` seconds.
        """
        while True:
            msg = await self._ws.receive(timeout=timeout)
            if msg.type is aiohttp.WSMsgType.TEXT:
                text: str = msg.data
                return text
            if msg.type in _SKIPPED:
                continue
            if self._guard is not None and self._guard.tripped:
                raise PrinterProtocolError(
                    "a websocket frame over the size limit", reason=Reason.TOO_LARGE
                )
            if msg.type is aiohttp.WSMsgType.ERROR:
                error = msg.data
                if isinstance(error, aiohttp.WebSocketError) and error.code == 1009:
                    raise PrinterProtocolError(
                        "a websocket frame over the size limit", reason=Reason.TOO_LARGE
                    )
                raise PrinterConnectionError(f"websocket error: {type(error).__name__}")
            raise PrinterConnectionError(f"the websocket closed (code {self._ws.close_code})")

    async def send_text(self, text: str) -> None:
        """Send one text message; a dead socket is a PrinterConnectionError."""
        try:
            await self._ws.send_str(text)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            raise PrinterConnectionError(f"cannot send: {err}") from err

    async def close(self) -> None:
        """Close the socket; never raises."""
        try:
            await self._ws.close()
        except Exception:  # noqa: BLE001 - closing a broken socket may fail in many ways
            _LOGGER.debug("Closing a websocket failed", exc_info=True)


async def connect_websocket(
    session: aiohttp.ClientSession,
    url: Any,
    *,
    timeout: float,
    what: str,
    limit: int = MAX_MESSAGE_BYTES,
    headers: dict[str, str] | None = None,
    close_timeout: float = 2.0,
) -> WebSocket:
    """Open a websocket with bounded frames; a refused handshake raises with its status.

    Raises aiohttp.WSServerHandshakeError (the caller maps statuses to reasons),
    else the typed transport error.
    """
    try:
        async with asyncio.timeout(timeout):
            ws = await session.ws_connect(
                url,
                headers=headers,
                max_msg_size=limit,
                heartbeat=None,
                autoping=True,
                timeout=aiohttp.ClientWSTimeout(ws_close=close_timeout),
            )
    except aiohttp.WSServerHandshakeError:
        raise
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as err:
        raise transport_error(err, what) from err
    return WebSocket(ws, limit)
