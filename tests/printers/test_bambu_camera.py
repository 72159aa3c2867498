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
