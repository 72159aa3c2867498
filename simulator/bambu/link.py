"""The simulated printer's own MQTT connection to its broker.

On a real printer the firmware talks to its broker from inside the machine;
here the "printer" is a paho client on a plain loopback listener of the same
mosquitto (same password file and ACL). paho runs without its thread: the
TCP connect is awaited on a non-blocking socket, then paho is driven with
``add_reader``/``add_writer`` and a ``loop_misc`` task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import socket
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode


class LinkError(Exception):
    """The printer could not reach its broker."""


class _Client(paho.Client):
    """paho, but using a socket connected beforehand (no blocking connect)."""

    ready_socket: socket.socket | None = None

    def _create_socket(self) -> Any:
        sock, self.ready_socket = self.ready_socket, None
        if sock is None:
            raise OSError("no connected socket")
        return sock


class PrinterLink:
    """MQTT 3.1.1 as the printer: subscribe to requests, publish reports."""

    def __init__(
        self, host: str, port: int, password: str, on_message: Callable[[bytes], None]
    ) -> None:
        """Prepare the client; ``connect()`` opens it."""
        self._host = host
        self._port = port
        self._on_message = on_message
        self._client = _Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self._client.username_pw_set("bblp", password)
        self._client.on_connect = self._connected
        self._client.on_message = lambda client, userdata, msg: self._on_message(msg.payload)
        self._client.on_disconnect = lambda *args: self._drop()
        self._client.on_socket_close = lambda *args: self._drop()
        self._client.on_socket_register_write = lambda *args: self._watch_write(on=True)
        self._client.on_socket_unregister_write = lambda *args: self._watch_write(on=False)
        self._loop = asyncio.get_running_loop()
        self._fd: int | None = None
        self._connack: asyncio.Future[bool] = self._loop.create_future()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._misc: asyncio.Task[None] | None = None

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect and wait for the broker's CONNACK."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)  # noqa: FBT003
        try:
            async with asyncio.timeout(timeout):
                await self._loop.sock_connect(sock, (self._host, self._port))
                self._client.ready_socket = sock
                self._client.connect_async(self._host, self._port, keepalive=30)
                self._fd = sock.fileno()
                self._loop.add_reader(self._fd, self._read)
                self._client.reconnect()  # queues CONNECT: paho asks for the writer
                self._misc = self._loop.create_task(self._tick(), name="bambu sim link")
                accepted = await self._connack
        except (OSError, TimeoutError) as err:
            sock.close()
            await self.close()
            raise LinkError(f"broker {self._host}:{self._port}: {err!r}") from err
        if not accepted:
            await self.close()
            raise LinkError("broker refused the printer's credentials")

    def subscribe(self, topic: str) -> None:
        """Subscribe with QoS 1."""
        self._client.subscribe(topic, 1)

    def publish(self, topic: str, payload: str | bytes) -> bool:
        """Publish with QoS 0; False when not connected."""
        if not self._client.is_connected():
            return False
        return self._client.publish(topic, payload).rc == MQTTErrorCode.MQTT_ERR_SUCCESS

    async def close(self) -> None:
        """Disconnect and stop driving paho; idempotent."""
        if self._client.is_connected():
            with contextlib.suppress(Exception):
                self._client.disconnect()
                self._client.loop_write()
        with contextlib.suppress(Exception):
            self._client._sock_close()  # noqa: SLF001 - the only way to drop the socket
        self._drop()
        task, self._misc = self._misc, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _connected(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not self._connack.done():
            self._connack.set_result(not reason.is_failure)

    def _read(self) -> None:
        rc = self._client.loop_read()
        if rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            self._drop()

    def _watch_write(self, *, on: bool) -> None:
        if self._fd is None:
            return
        if on:
            self._loop.add_writer(self._fd, self._client.loop_write)
        else:
            self._loop.remove_writer(self._fd)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self._client.loop_misc()

    def _drop(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)
        if not self._connack.done():
            self._connack.set_result(False)
        if not self.closed.done():
            self.closed.set_result(None)
