"""The P1/A1 camera socket: login packet, frame parsing, TLS fetch against the simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
import ssl

import pytest

from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterConnectionError,
    PrinterProtocolError,
)
from custom_components.printfarm.printers.bambu.camera import (
    auth_packet,
    fetch_frame,
    frame_header,
    parse_auth_packet,
    read_frame,
)
from custom_components.printfarm.printers.bambu.rtsps import RtspsRelay
from custom_components.printfarm.printers.bambu.tls import client_context
from simulator.bambu import certs
from simulator.bambu.camera import CameraServer
from simulator.camera import FrameSource

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100 + b"\xff\xd9"
SERIAL = "01P00A000000042"


def reader_with(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def test_auth_packet_layout() -> None:
    packet = auth_packet("12345678")
    assert len(packet) == 80
    assert packet[:16] == bytes.fromhex("40000000003000000000000000000000")
    assert packet[16:20] == b"bblp"
    assert packet[20:48] == b"\0" * 28
    assert packet[48:56] == b"12345678"
    assert parse_auth_packet(packet) == ("bblp", "12345678")
    assert parse_auth_packet(packet[:79]) is None
    assert parse_auth_packet(b"\x41" + packet[1:]) is None
    with pytest.raises(ValueError, match="32 bytes"):
        auth_packet("x" * 33)


async def test_read_frame() -> None:
    assert await read_frame(reader_with(frame_header(len(JPEG)) + JPEG), 1 << 20) == JPEG


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (frame_header(len(JPEG)) + JPEG[:50], PrinterProtocolError, "truncated frame"),
        (frame_header(len(JPEG))[:9], PrinterProtocolError, "truncated frame header"),
        (frame_header(10_000_000) + JPEG, PrinterProtocolError, "exceeds"),
        (frame_header(0), PrinterProtocolError, "empty frame"),
        (frame_header(8) + b"notajpeg", PrinterProtocolError, "not a complete JPEG"),
        (b"", PrinterAuthError, "closed the connection"),
    ],
)
async def test_bad_frames(data: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        await read_frame(reader_with(data), 1 << 20)


@pytest.fixture
async def camera_server(tmp_path: Path):
    files = await asyncio.to_thread(certs.generate, tmp_path, SERIAL)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(files.cert, files.key)
    frames = FrameSource()
    server = CameraServer(frames, "87654321", server_ctx, interval=0.05)
    port = await server.start("127.0.0.1")
    yield server, port, client_context(files.ca.read_text()), frames
    await server.stop()


async def test_fetch_frame_over_tls(camera_server) -> None:
    server, port, ctx, frames = camera_server
    frame = await fetch_frame(
        "127.0.0.1",
        port,
        access_code="87654321",
        ssl_context=ctx,
        server_hostname=SERIAL,
        timeout=5,
        limit=1 << 24,
    )
    assert frame.startswith(b"\xff\xd8")
    assert frame.endswith(b"\xff\xd9")
    assert frame in frames._normal
    assert server.logins == 1


async def test_fetch_frame_wrong_code(camera_server) -> None:
    server, port, ctx, _ = camera_server
    with pytest.raises(PrinterAuthError):
        await fetch_frame(
            "127.0.0.1",
            port,
            access_code="00000000",
            ssl_context=ctx,
            server_hostname=SERIAL,
            timeout=5,
            limit=1 << 24,
        )
    assert server.refused == 1


async def test_fetch_frame_checks_the_certificate_name(camera_server) -> None:
    _, port, ctx, _ = camera_server
    with pytest.raises(PrinterConnectionError, match="certificate|hostname|match"):
        await fetch_frame(
            "127.0.0.1",
            port,
            access_code="87654321",
            ssl_context=ctx,
            server_hostname="01P00A999999999",
            timeout=5,
            limit=1 << 24,
        )


# ------------------------------------------------------------ the RTSPS relay


class TlsPeer:
    """A TLS server that records what it receives and answers each chunk."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.received = bytearray()
        self.handshakes = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        try:
            while data := await reader.read(4096):
                self.received += data
                writer.write(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def _server_context(files: certs.CertFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    return context


REQUEST = (
    b"DESCRIBE rtsp://127.0.0.1/streaming/live/1 RTSP/1.0\r\nAuthorization: code-87654321\r\n\r\n"
)


async def _ask_through(relay: RtspsRelay) -> bytes:
    port = await relay.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(REQUEST)
    await writer.drain()
    try:
        async with asyncio.timeout(5):
            return await reader.read(4096)
    finally:
        writer.close()


async def test_relay_forwards_to_the_verified_printer(tmp_path: Path) -> None:
    files = await asyncio.to_thread(certs.generate, tmp_path, SERIAL)
    printer = TlsPeer(_server_context(files))
    port = await printer.start()
    relay = RtspsRelay(
        "127.0.0.1",
        port,
        ssl_context=client_context(files.ca.read_text()),
        server_hostname=SERIAL,
        timeout=5,
    )
    try:
        answer = await _ask_through(relay)
        assert answer.startswith(b"RTSP/1.0 200 OK")
        assert bytes(printer.received) == REQUEST
        assert relay.refused == 0
    finally:
        await relay.stop()
        await printer.stop()


async def test_relay_never_sends_the_code_to_an_impostor(tmp_path: Path) -> None:
    """A peer with a certificate Bambu's CA did not sign gets the TLS handshake, nothing more."""
    (tmp_path / "genuine").mkdir()
    (tmp_path / "impostor").mkdir()
    genuine = await asyncio.to_thread(certs.generate, tmp_path / "genuine", SERIAL)
    impostor_files = await asyncio.to_thread(certs.generate, tmp_path / "impostor", SERIAL)
    impostor = TlsPeer(_server_context(impostor_files))
    port = await impostor.start()
    relay = RtspsRelay(
        "127.0.0.1",
        port,
        ssl_context=client_context(genuine.ca.read_text()),
        server_hostname=SERIAL,
        timeout=5,
    )
    try:
        assert await _ask_through(relay) == b""  # the player is hung up on
        assert relay.refused == 1
        assert bytes(impostor.received) == b""
        assert b"87654321" not in bytes(impostor.received)
    finally:
        await relay.stop()
        await impostor.stop()
