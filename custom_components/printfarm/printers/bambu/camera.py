"""The P1/A1 camera: JPEG frames over a TLS socket (port 6000).

The client sends an 80-byte login packet (four little-endian u32: 0x40,
0x3000, 0, 0; then ``bblp`` and the access code, each NUL-padded to 32
bytes). The printer then streams frames: a 16-byte header whose first u32 is
the JPEG length, followed by the JPEG itself. A wrong access code makes the
printer close the connection without sending anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct

from ..exceptions import PrinterAuthError, PrinterConnectionError, PrinterProtocolError

DEFAULT_CAMERA_PORT = 6000
AUTH_HEADER = struct.Struct("<IIII")
FRAME_HEADER = struct.Struct("<IIII")
USERNAME = "bblp"
_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"


def auth_packet(access_code: str, username: str = USERNAME) -> bytes:
    """The 80-byte login packet."""
    user = username.encode("ascii")
    code = access_code.encode("ascii")
    if len(user) > 32 or len(code) > 32:
        raise ValueError("camera username and access code are at most 32 bytes")
    return AUTH_HEADER.pack(0x40, 0x3000, 0, 0) + user.ljust(32, b"\0") + code.ljust(32, b"\0")


def parse_auth_packet(packet: bytes) -> tuple[str, str] | None:
    """(username, access code) from a login packet, or None when it is not one."""
    if len(packet) != 80:
        return None
    magic, kind, _, _ = AUTH_HEADER.unpack_from(packet)
    if (magic, kind) != (0x40, 0x3000):
        return None
    try:
        user = packet[16:48].rstrip(b"\0").decode("ascii")
        code = packet[48:80].rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        return None
    return user, code


def frame_header(length: int) -> bytes:
    """The 16-byte header in front of a JPEG of ``length`` bytes."""
    return FRAME_HEADER.pack(length, 0, 1, 0)


def frame_length(header: bytes, limit: int) -> int:
    """Validate a frame header and return the JPEG length."""
    if len(header) != FRAME_HEADER.size:
        raise PrinterProtocolError("camera: truncated frame header")
    length = FRAME_HEADER.unpack(header)[0]
    if length == 0:
        raise PrinterProtocolError("camera: empty frame")
    if length > limit:
        raise PrinterProtocolError(f"camera: frame of {length} bytes exceeds {limit}")
    return int(length)


def check_jpeg(data: bytes) -> bytes:
    """Make sure ``data`` is a whole JPEG (start and end markers)."""
    if not data.startswith(_JPEG_START) or not data.endswith(_JPEG_END):
        raise PrinterProtocolError("camera: frame is not a complete JPEG")
    return data


async def read_frame(reader: asyncio.StreamReader, limit: int) -> bytes:
    """Read one framed JPEG from the stream."""
    try:
        header = await reader.readexactly(FRAME_HEADER.size)
    except asyncio.IncompleteReadError as err:
        if not err.partial:
            raise PrinterAuthError(
                "camera: the printer closed the connection (wrong access code?)"
            ) from err
        raise PrinterProtocolError("camera: truncated frame header") from err
    length = frame_length(header, limit)
    try:
        data = await reader.readexactly(length)
    except asyncio.IncompleteReadError as err:
        raise PrinterProtocolError(
            f"camera: truncated frame ({len(err.partial)} of {length} bytes)"
        ) from err
    return check_jpeg(data)


async def fetch_frame(
    host: str,
    port: int,
    *,
    access_code: str,
    ssl_context: ssl.SSLContext,
    server_hostname: str,
    timeout: float,
    limit: int,
) -> bytes:
    """Open the camera socket, log in, return the first frame and close."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl_context, server_hostname=server_hostname
            )
            writer.write(auth_packet(access_code))
            await writer.drain()
            return await read_frame(reader, limit)
    except TimeoutError as err:
        raise PrinterConnectionError(
            f"camera {host}:{port}: no frame within {timeout:g} s"
        ) from err
    except (OSError, ssl.SSLError) as err:
        raise PrinterConnectionError(f"camera {host}:{port}: {err}") from err
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                async with asyncio.timeout(2):
                    await writer.wait_closed()
