"""paho-mqtt driven from asyncio: no paho thread, no blocking socket calls.

paho's own ``connect()`` opens the TCP connection and runs the TLS handshake
with blocking calls. Here the TCP connect and the TLS handshake run on a
non-blocking socket awaited through the event loop; the finished socket is
handed to paho (``_create_socket`` is overridden to return it) and from then
on paho is driven with ``loop.add_reader``/``add_writer`` and a ``loop_misc``
timer task, exactly as paho's "external event loop" mode intends.

Used by the Bambu client and by the simulated printer on the other side of
the simulator's broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import logging
import socket
import ssl
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from ..exceptions import PrinterAuthError, PrinterConnectionError, PrinterProtocolError
from ..limits import MAX_MESSAGE_BYTES
from ..plumbing import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

#: CONNACK return codes (MQTT 3.1.1) that mean "wrong credentials".
_AUTH_REFUSED = frozenset({4, 5})

MessageHandler = Callable[[str, bytes], None]


class PacketTooLargeError(OSError):
    """The broker announced a packet over the limit: refused before it is read."""


class _PreparedSocketClient(paho.Client):
    """A paho client that uses a socket opened (and TLS-wrapped) beforehand.

    It also refuses an oversized packet at the transport: paho reads a
    packet's remaining length first and then buffers the whole packet;
    here, once the length is known and over ``max_packet``, reading stops
    with an error (the connection drops) before a byte of it is buffered.
    """

    prepared: socket.socket | None = None
    max_packet: int = MAX_MESSAGE_BYTES + 1024  # a payload at the limit, plus its topic
    too_large: bool = False

    def _create_socket(self) -> Any:
        sock, self.prepared = self.prepared, None
        if sock is None:
            raise OSError("no prepared socket: reconnects are done by the owner")
        return sock

    def _sock_recv(self, bufsize: int) -> bytes:
        packet = self._in_packet
        if packet["have_remaining"] and packet["remaining_length"] > self.max_packet:
            self.too_large = True
            raise PacketTooLargeError(
                f"MQTT packet of {packet['remaining_length']} bytes is over the limit"
            )
        # paho asks for the whole rest of a packet at once: read it in slices
        return super()._sock_recv(min(bufsize, 65536))


async def _tls_handshake(sock: ssl.SSLSocket, loop: asyncio.AbstractEventLoop) -> None:
    """Run a TLS handshake on a non-blocking socket without blocking the loop."""
    while True:
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            await _wait_fd(loop, sock, write=False)
        except ssl.SSLWantWriteError:
            await _wait_fd(loop, sock, write=True)
        else:
            return


async def _wait_fd(loop: asyncio.AbstractEventLoop, sock: socket.socket, *, write: bool) -> None:
    future: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not future.done():
            future.set_result(None)

    fd = sock.fileno()
    if write:
        loop.add_writer(fd, ready)
    else:
        loop.add_reader(fd, ready)
    try:
        await future
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


class AsyncMqtt:
    """One MQTT 3.1.1 connection over TLS, driven by the running event loop.

    ``on_message(topic, payload)`` runs in the event loop. ``lost`` completes
    when the connection ends for any reason after ``connect()`` succeeded.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str,
        password: str,
        ssl_context: ssl.SSLContext,
        server_hostname: str,
        on_message: MessageHandler,
        keepalive: int = 30,
        client_id: str | None = None,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        """Prepare the connection; nothing is opened until ``connect()``."""
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self._server_hostname = server_hostname
        self._on_message = on_message
        self._on_lost = on_lost
        self._keepalive = keepalive
        self._client = _PreparedSocketClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or "",
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        self._client.username_pw_set(username, password)
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_socket_open = self._handle_socket_open
        self._client.on_socket_close = self._handle_socket_close
        self._client.on_socket_register_write = self._handle_register_write
        self._client.on_socket_unregister_write = self._handle_unregister_write
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connack: asyncio.Future[int] | None = None
        self.lost: asyncio.Future[str] | None = None
        self._misc_task: asyncio.Task[None] | None = None
        self._fd: int | None = None

    # ------------------------------------------------------------ connecting

    async def connect(self, timeout: float) -> None:
        """Open TCP + TLS, send CONNECT and wait for CONNACK.

        Raises PrinterAuthError when the broker refuses the credentials,
        PrinterConnectionError for network/TLS failures and timeouts.
        """
        loop = self._loop = asyncio.get_running_loop()
        self._connack = loop.create_future()
        self.lost = loop.create_future()
        sock: socket.socket | None = None
        try:
            async with asyncio.timeout(timeout):
                sock = await self._open_socket(loop)
                self._client.prepared = sock
                self._client.connect_async(self._host, self._port, keepalive=self._keepalive)
                self._check(self._client.reconnect())
                self._misc_task = loop.create_task(self._misc_loop(), name="printfarm mqtt misc")
                code = await self._connack
        except TimeoutError as err:
            await self.close()
            raise PrinterConnectionError(
                f"{self._host}:{self._port}: no MQTT answer within {timeout:g} s"
            ) from err
        except ssl.SSLCertVerificationError as err:
            await self.close()
            if sock is not None:
                sock.close()
            raise PrinterConnectionError(
                f"{self._host}:{self._port}: TLS certificate rejected ({err.verify_message})"
            ) from err
        except (OSError, ssl.SSLError) as err:
            await self.close()
            if sock is not None:
                sock.close()
            raise PrinterConnectionError(f"{self._host}:{self._port}: {err}") from err
        except BaseException:
            await self.close()
            raise
        if code in _AUTH_REFUSED:
            await self.close()
            raise PrinterAuthError(
                f"{self._host}: the printer refused the access code (MQTT CONNACK rc {code})"
            )
        if code != 0:
            await self.close()
            raise PrinterProtocolError(f"{self._host}: MQTT CONNACK refused, rc {code}")

    @staticmethod
    def _check(rc: MQTTErrorCode) -> None:
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise PrinterConnectionError(f"MQTT connect failed: {paho.error_string(rc)}")

    async def _open_socket(self, loop: asyncio.AbstractEventLoop) -> socket.socket:
        infos = await loop.getaddrinfo(self._host, self._port, type=socket.SOCK_STREAM)
        if not infos:
            raise OSError(f"cannot resolve {self._host}")
        family, kind, proto, _, address = infos[0]
        raw = socket.socket(family, kind, proto)
        try:
            raw.setblocking(False)  # noqa: FBT003
            await loop.sock_connect(raw, address)
            tls = self._ssl_context.wrap_socket(
                raw, server_hostname=self._server_hostname, do_handshake_on_connect=False
            )
        except BaseException:
            raw.close()
            raise
        try:
            await _tls_handshake(tls, loop)
        except BaseException:
            tls.close()
            raise
        return tls

    # ---------------------------------------------------------------- using

    @property
    def too_large(self) -> bool:
        """Whether the connection ended because the broker sent a packet over the limit."""
        return self._client.too_large

    @property
    def is_connected(self) -> bool:
        """Whether CONNACK arrived and the connection has not been lost."""
        return self._client.is_connected()

    def subscribe(self, topic: str, qos: int = 0) -> None:
        """Subscribe (fire and forget; the broker's ACL decides)."""
        self._client.subscribe(topic, qos)

    def publish(self, topic: str, payload: bytes | str, qos: int = 0) -> None:
        """Queue a message; raises PrinterConnectionError when not connected."""
        info = self._client.publish(topic, payload, qos)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise PrinterConnectionError(f"MQTT publish failed: {paho.error_string(info.rc)}")

    async def close(self) -> None:
        """Disconnect and release the socket, the fd watchers and the timer task; idempotent."""
        if self._client.is_connected():
            with contextlib.suppress(Exception):
                self._client.disconnect()
                self._client.loop_write()
        with contextlib.suppress(Exception):
            self._client._sock_close()  # noqa: SLF001 - paho's only public close is disconnect()
        prepared, self._client.prepared = self._client.prepared, None
        if prepared is not None:
            prepared.close()
        self._unwatch()
        task, self._misc_task = self._misc_task, None
        await cancel_and_wait(task)
        self._set_lost("closed")

    # ------------------------------------------------------- paho callbacks

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._client.loop_misc() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._set_lost("keepalive failed")
                return

    def _read(self) -> None:
        rc = self._client.loop_read()
        if rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            self._unwatch()
            self._set_lost(f"read failed: {paho.error_string(rc)}")

    def _write(self) -> None:
        rc = self._client.loop_write()
        if rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            self._unwatch()
            self._set_lost(f"write failed: {paho.error_string(rc)}")

    def _unwatch(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)

    def _set_lost(self, why: str) -> None:
        if self._connack is not None and not self._connack.done():
            self._connack.set_exception(PrinterConnectionError(f"connection lost: {why}"))
            self._connack.exception()  # retrieved here: connect() may already be gone
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(why)
            if self._on_lost is not None:
                self._on_lost(why)

    def _handle_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        fd = self._fd = sock.fileno()
        self._loop.add_reader(fd, self._read)

    def _handle_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._unwatch()
        self._set_lost("socket closed")

    def _handle_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._loop is not None and self._fd is not None:
            self._loop.add_writer(self._fd, self._write)

    def _handle_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._loop is not None and self._fd is not None:
            self._loop.remove_writer(self._fd)

    def _handle_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if self._connack is not None and not self._connack.done():
            self._connack.set_result(_connack_code(reason))

    def _handle_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        self._set_lost(f"disconnected ({reason})")

    def _handle_message(
        self, client: paho.Client, userdata: Any, message: paho.MQTTMessage
    ) -> None:
        try:
            self._on_message(message.topic, message.payload)
        except Exception:  # a handler bug must not break paho's read loop
            _LOGGER.exception("MQTT message handler failed")


def _connack_code(reason: ReasonCode) -> int:
    """The MQTT 3.1.1 CONNACK return code behind paho's v5-style reason code."""
    if not reason.is_failure:
        return 0
    names = {
        "Unsupported protocol version": 1,
        "Client identifier not valid": 2,
        "Server unavailable": 3,
        "Bad user name or password": 4,
        "Not authorized": 5,
    }
    return names.get(str(reason), 3)
