"""The P1/A1 camera socket: TLS, 80-byte login, then framed JPEGs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import struct

from ..camera import FrameSource

_LOGGER = logging.getLogger(__name__)
_U32X4 = struct.Struct("<IIII")


def login_from(packet: bytes) -> tuple[str, str] | None:
    """(user, access code) from the 80-byte login packet, None if it is not one."""
    if len(packet) != 80 or _U32X4.unpack_from(packet)[:2] != (0x40, 0x3000):
        return None
    try:
        return (
            packet[16:48].split(b"\0", 1)[0].decode("ascii"),
            packet[48:80].split(b"\0", 1)[0].decode("ascii"),
        )
    except UnicodeDecodeError:
        return None


def framed(jpeg: bytes) -> bytes:
    """A JPEG with its 16-byte header (length, 0, 1, 0)."""
    return _U32X4.pack(len(jpeg), 0, 1, 0) + jpeg


class CameraServer:
    """Streams ``FrameSource`` frames to every client that logs in with the access code."""

    def __init__(
        self,
        frames: FrameSource,
        access_code: str,
        ssl_context: ssl.SSLContext,
        *,
        interval: float = 1.0,
    ) -> None:
        """Keep the frame source and credentials; ``start()`` opens the socket."""
        self._frames = frames
        self._access_code = access_code
        self._ssl = ssl_context
        self._interval = interval
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self.logins = 0
        self.refused = 0

    async def start(self, host: str, port: int = 0) -> int:
        """Listen and return the port."""
        self._server = await asyncio.start_server(self._serve, host, port, ssl=self._ssl)
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        try:
            async with asyncio.timeout(10):
                packet = await reader.readexactly(80)
            login = login_from(packet)
            if login is None or login != ("bblp", self._access_code):
                self.refused += 1
                return  # like the printer: close without a word
            self.logins += 1
            while True:
                frame = self._frames.frame()
                writer.write(framed(frame))
                await writer.drain()
                await asyncio.sleep(self._interval)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, asyncio.CancelledError):
                await writer.wait_closed()
            if task is not None:
                self._clients.discard(task)

    async def stop(self) -> None:
        """Close the listener and every stream."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._clients):
            task.cancel()
        for task in list(self._clients):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if server is not None:
            await server.wait_closed()
