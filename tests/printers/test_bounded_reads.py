"""Every network read is bounded before it is buffered; a short answer is an error.

Regression cases of issue 12: a Moonraker snapshot sent in 64 KiB pieces came
back as 65,536 bytes; OctoPrint's login answer and the discovery probe were read
whole (+1 GB, +600 MB); paho buffered a whole MQTT packet before the size check
(+600 MB); aiohttp assembled a whole websocket frame before its check (+200 MB).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
import pytest
from yarl import URL

from custom_components.printfarm.printers import PrinterProtocolError, Reason
from custom_components.printfarm.printers.bambu.mqtt import _PreparedSocketClient
from custom_components.printfarm.printers.http import _FrameGuard
from custom_components.printfarm.printers.models import CameraInfo, CameraKind
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from custom_components.printfarm.printers.octoprint.flavour import probe_flavour
from custom_components.printfarm.printers.octoprint.push import PushSession

PIECE = 64 * 1024
JPEG = b"\xff\xd8" + bytes(range(256)) * (3 * 1024 * 1024 // 256) + b"\xff\xd9"  # ~3 MiB
ENDLESS = 1024 * 1024 * 1024  # what a hostile server offers: 1 GiB
#: What may pass through loopback socket buffers before the client stops reading.
BUFFERS = 64 * 1024 * 1024


@dataclass
class Server:
    """A printer that answers from ``routes``; counts what each endless answer got out."""

    port: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def pieces(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.content_length = len(JPEG)
        await response.prepare(request)
        for at in range(0, len(JPEG), PIECE):
            await response.write(JPEG[at : at + PIECE])
            await asyncio.sleep(0)
        return response

    async def cut_short(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.content_length = len(JPEG)
        await response.prepare(request)
        await response.write(JPEG[: 16 * PIECE])
        assert request.transport is not None
        request.transport.close()
        return response

    async def endless(self, request: web.Request) -> web.StreamResponse:
        name = request.path
        self.sent[name] = 0
        done = self.done.setdefault(name, asyncio.Event())
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        try:
            await response.prepare(request)
            await response.write(b'{"name": "')
            while self.sent[name] < ENDLESS:
                await response.write(b"x" * PIECE)
                self.sent[name] += PIECE
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            done.set()
        return response


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    app = web.Application()
    app.router.add_get("/pieces.jpg", srv.pieces)
    app.router.add_get("/short.jpg", srv.cut_short)
    app.router.add_post("/api/login", srv.endless)
    app.router.add_get("/api/version", srv.endless)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield srv
    await runner.cleanup()


async def _snapshot(url: str) -> bytes:
    async with aiohttp.ClientSession() as session:
        client = MoonrakerClient("127.0.0.1", session=session)
        client._camera = CameraInfo(kind=CameraKind.MJPEG, snapshot_url=url)
        return await client.snapshot()


async def test_moonraker_snapshot_in_pieces_comes_back_whole(server: Server) -> None:
    assert await _snapshot(server.url("/pieces.jpg")) == JPEG


async def test_moonraker_snapshot_cut_short_is_an_error(server: Server) -> None:
    with pytest.raises(PrinterProtocolError):
        await _snapshot(server.url("/short.jpg"))


async def _endless_stopped(server: Server, path: str) -> int:
    await asyncio.wait_for(server.done[path].wait(), 10)
    return server.sent[path]


async def test_octoprint_login_answer_is_bounded(server: Server) -> None:
    async with aiohttp.ClientSession() as session:
        push = PushSession(session, URL(server.url("/")), {}, 5.0, on_current=lambda *_: None)
        with pytest.raises(PrinterProtocolError) as caught:
            await push.open()
    assert caught.value.reason is Reason.TOO_LARGE
    assert await _endless_stopped(server, "/api/login") < BUFFERS


async def test_discovery_probe_answer_is_bounded(server: Server) -> None:
    async with aiohttp.ClientSession() as session:
        assert await probe_flavour(session, "127.0.0.1", server.port, timeout=5.0) == "unknown"
    assert await _endless_stopped(server, "/api/version") < BUFFERS


# ------------------------------------------------------------------ MQTT


def _remaining_length(size: int) -> bytes:
    out = bytearray()
    while True:
        byte, size = size % 128, size // 128
        out.append(byte | (0x80 if size else 0))
        if not size:
            return bytes(out)


class _FakeSocket:
    """A broker's bytes: ``head``, then as much payload as anyone asks for."""

    def __init__(self, head: bytes) -> None:
        self.head = head
        self.consumed = 0
        self.largest_read = 0

    def recv(self, size: int) -> bytes:
        self.largest_read = max(self.largest_read, size)
        if self.head:
            data, self.head = self.head[:size], self.head[size:]
        else:
            data = b"x" * size
        self.consumed += len(data)
        return data

    def close(self) -> None:
        self.head = b""


def _mqtt_client(head: bytes) -> tuple[_PreparedSocketClient, _FakeSocket]:
    client = _PreparedSocketClient(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    sock = _FakeSocket(head)
    client._sock = sock  # type: ignore[assignment]
    return client, sock


def test_mqtt_packet_over_the_limit_is_refused_at_its_header() -> None:
    client, sock = _mqtt_client(b"\x30" + _remaining_length(100 * 1024 * 1024))
    assert client._packet_read() == MQTTErrorCode.MQTT_ERR_CONN_LOST
    assert client.too_large
    assert sock.consumed <= 5  # the fixed header, not a byte of the packet


def test_mqtt_packet_within_the_limit_is_read_in_slices() -> None:
    topic = b"device/x/report"
    size = 2 + len(topic) + 1024 * 1024
    client, sock = _mqtt_client(b"\x30" + _remaining_length(size) + len(topic).to_bytes(2) + topic)
    while client._packet_read() == MQTTErrorCode.MQTT_ERR_SUCCESS and sock.consumed < size:
        pass
    assert not client.too_large
    assert sock.largest_read <= PIECE


# ------------------------------------------------------------------ websocket frames


def _frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    if size < 126:
        return bytes([first, size]) + payload
    if size < 1 << 16:
        return bytes([first, 126]) + size.to_bytes(2, "big") + payload
    return bytes([first, 127]) + size.to_bytes(8, "big") + payload


class _Parser:
    """What aiohttp's reader would receive."""

    def __init__(self) -> None:
        self.fed = bytearray()
        self.eof = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.fed += data
        return False, b""

    def feed_eof(self) -> None:
        self.eof = True


def _guard(limit: int = 1024) -> tuple[_FrameGuard, _Parser, list[bool]]:
    parser, cut = _Parser(), []
    cutter: Callable[[], Any] = lambda: cut.append(True)  # noqa: E731
    return _FrameGuard(parser, limit, cutter), parser, cut


@pytest.mark.parametrize("slice_size", [1, 7, 4096])
def test_oversized_frame_never_reaches_aiohttp(slice_size: int) -> None:
    guard, parser, cut = _guard()
    good = _frame(1, b"hello") + _frame(9, b"ping") + _frame(1, b"world")
    stream = _frame(1, b"hello") + _frame(1, b"x" * 70_000) + _frame(9, b"ping")
    stream += _frame(1, b"world")
    for at in range(0, len(stream), slice_size):
        guard.feed_data(stream[at : at + slice_size])
    assert bytes(parser.fed) == good
    assert guard.dropped == 1
    assert not guard.tripped
    assert not cut


def test_a_message_that_grows_too_large_in_pieces_cuts_the_connection() -> None:
    guard, parser, cut = _guard()
    guard.feed_data(_frame(1, b"a" * 800, fin=False) + _frame(0, b"b" * 800))
    assert guard.tripped
    assert cut == [True]
    assert parser.eof
    assert len(parser.fed) < 1024
