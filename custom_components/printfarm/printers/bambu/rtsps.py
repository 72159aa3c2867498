"""The X1/H2 camera (RTSPS, port 322) reached only through a verified TLS connection.

Whoever plays the stream (Home Assistant's stream component, through PyAV
and ffmpeg) completes TLS with any certificate and then sends the access
code: an impostor on the network would get it. So the stream player is
never pointed at the printer. It gets ``rtsp://bblp:<code>@127.0.0.1:<port>/...``,
a port on this host's loopback that only this process listens on; each
connection to it is forwarded to the printer over TLS verified against
Bambu's CA with the serial as name (the same check as the MQTT connection).
The code thus travels only to this process and, encrypted, to a printer
that proved who it is. A connection whose TLS check fails is closed before
one byte from the player is forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl

from ..plumbing import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

RTSPS_PORT = 322
_CHUNK = 65536


class RtspsRelay:
    """A loopback RTSP endpoint forwarding to the printer's RTSPS server over verified TLS."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext,
        server_hostname: str,
        timeout: float,
    ) -> None:
        """Where the printer's stream is and how it proves itself; nothing listens yet."""
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._server_hostname = server_hostname
        self._timeout = timeout
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        #: Connections refused because the printer's certificate did not verify.
        self.refused = 0

    @property
    def port(self) -> int | None:
        """The loopback port players connect to (None until started)."""
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self.port
        assert port is not None
        return port

    async def stop(self) -> None:
        """Stop listening and cut every forwarded connection; never raises."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        await cancel_and_wait(*self._links)
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._links.add(task)
        try:
            await self._forward(reader, writer)
        finally:
            if task is not None:
                self._links.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                up_reader, up_writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._server_hostname,
                )
        except ssl.SSLCertVerificationError as err:
            self.refused += 1
            _LOGGER.warning(
                "Not streaming from %s: its certificate is not a Bambu printer's (%s)",
                self._host,
                err.verify_message,
            )
            return
        except (OSError, ssl.SSLError, TimeoutError) as err:
            _LOGGER.debug("Cannot reach the camera of %s: %s", self._host, err)
            return
        pipes = (
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        )
        try:
            # either side hanging up ends the relay of this connection
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(*pipes)
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until the reading side ends; a broken side just ends the copy."""
    with contextlib.suppress(OSError, ssl.SSLError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
