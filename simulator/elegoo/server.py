"""A simulated Elegoo Centauri Carbon speaking SDCP v3 on loopback.

* websocket ``/websocket`` (aiohttp): request envelopes in, ``sdcp/response``
  acks with the same ``RequestID`` out; ``sdcp/status`` pushed on every
  change and every ``status_period`` seconds; ``sdcp/attributes`` on Cmd 1;
  ``ping`` answered with ``pong``;
* attributes pushed to a new client unless the job is paused or failed (the
  firmware then stays silent until asked); speed presets applied only during
  a job and only for the four preset values (others are acked and dropped);
* the printer's limits: a client silent for ``idle_timeout`` s (60) is
  dropped, and only ``max_clients`` (4) connections are served at once (an
  open video stream counts); a further connection is accepted and closed at
  once with code 1013 "try again later";
* an MJPEG server (``/video`` on ``video_port``) that streams FrameSource
  frames only after Cmd 386 ``Enable: 1``, one viewer at a time;
* a UDP responder answering ``M99999`` on ``discovery_port``.

Options (``SimOptions.extra``): ``idle_timeout``, ``max_clients``,
``status_period``, ``tick_interval``, ``frame_interval``, ``mainboard_id``,
``firmware``, ``discovery_port``, ``video_port``, ``ticks_ms`` (report
ticks in ms like the spec says), ``send_attributes`` (false: a firmware that
never sends its attributes), ``ignore_changes_while_printing`` (fw
1.1.29: light and temperature changes are acked but ignored during a job).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import json
import logging
from typing import Any, ClassVar

from aiohttp import WSCloseCode, WSMsgType, web

from .. import traffic
from ..base import SimOptions, SimulatedPrinter
from ..camera import FrameSource, stream_mjpeg
from ..faults import Fault, hostile_message
from ..job import Phase, PrintJob
from .commands import Commands
from .messages import (
    ERROR_CODE_FAILED,
)

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class _Conn:
    """One websocket client."""

    ws: web.WebSocketResponse
    last_rx: float
    frozen: bool = False


#: Files every simulated Centauri Carbon stores besides its job's.
DEMO_FILES = ("calibration_cube.gcode", "phone_stand.gcode")


class ElegooSimulator(Commands, SimulatedPrinter):
    """Centauri Carbon (SDCP v3) on 127.0.0.1: websocket, MJPEG and UDP discovery."""

    kind: ClassVar[str] = "elegoo"

    def __init__(self, job: PrintJob, camera: FrameSource, options: SimOptions) -> None:
        """Read the options; ``start()`` opens the sockets."""
        super().__init__(job, camera, options)
        extra = options.extra
        self.idle_timeout = float(extra.get("idle_timeout", 60.0))
        self.max_clients = int(extra.get("max_clients", 4))
        self.status_period = float(extra.get("status_period", 5.0))
        self.tick_interval = float(extra.get("tick_interval", 0.5))
        self.frame_interval = float(extra.get("frame_interval", 0.2))
        self.ticks_ms = bool(extra.get("ticks_ms", False))
        self.send_attributes = bool(extra.get("send_attributes", True))
        self.ignore_changes_while_printing = bool(extra.get("ignore_changes_while_printing", False))
        self.mainboard_id = str(extra.get("mainboard_id") or f"e1e90000cc01{options.index:020x}")
        self.firmware = str(extra.get("firmware", "V1.1.29"))
        self.model = options.model or "Centauri Carbon"
        self.name = options.name or f"Centauri Carbon {options.index + 1}"
        self.port = 0
        self.video_port = int(extra.get("video_port", 0))
        self.discovery_port = int(extra.get("discovery_port", 0))
        self.video_enabled = False
        self.streams = 0
        self.refused = 0
        self.dropped_idle = 0
        self.requests: list[tuple[int, dict[str, Any]]] = []
        self._rgb = [255, 255, 255]
        self._conns: set[_Conn] = set()
        self._runners: list[web.AppRunner] = []
        self._udp: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._dirty: asyncio.Event | None = None
        self._video_off: asyncio.Event | None = None
        self._changed: asyncio.Condition | None = None
        self._stopping = False
        self._task_id = 0
        #: Files on the printer's storage, by their full path (``/local/...``).
        self.stored: set[str] = {f"/local/{name}" for name in DEMO_FILES}
        if job.file:
            self.stored.add(f"/local/{job.file}")
        job.add_listener(self._job_changed)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> dict[str, Any]:
        """Open the websocket, MJPEG and UDP sockets; return the JSON line."""
        loop = asyncio.get_running_loop()
        self._dirty = asyncio.Event()
        self._video_off = asyncio.Event()
        self._changed = asyncio.Condition()
        self._stopping = False
        host = self.options.host
        ws_app = web.Application()
        ws_app.router.add_get("/websocket", self._ws_handler)
        video_app = web.Application()
        video_app.router.add_get("/video", self._video_handler)
        self.port = await self._serve(ws_app, host, self.options.port)
        self.video_port = await self._serve(video_app, host, self.video_port)
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DiscoveryResponder(self), local_addr=(host, self.discovery_port)
        )
        self._udp = transport
        self.discovery_port = transport.get_extra_info("sockname")[1]
        self._task = asyncio.create_task(self._run(), name=f"elegoo sim {self.name}")
        return {
            "kind": self.kind,
            "name": self.name,
            "host": host,
            "port": self.port,
            "serial": self.mainboard_id,
            "camera_port": self.video_port,
            "extra": {
                "video_port": self.video_port,
                "discovery_port": self.discovery_port,
                "mainboard_id": self.mainboard_id,
            },
        }

    async def _serve(self, app: web.Application, host: str, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, host, port)
        await site.start()
        address = runner.addresses[0]
        return int(address[1])

    async def stop(self) -> None:
        """Close every socket and task; idempotent."""
        self._stopping = True
        self.video_enabled = False
        if self._video_off is not None:
            self._video_off.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for conn in list(self._conns):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutdown")
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.cleanup()
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    # ------------------------------------------------------------ test hooks

    @property
    def clients(self) -> int:
        """Websocket clients connected now."""
        return len(self._conns)

    def freeze(self) -> None:
        """Make every current connection half-open: keep reading, never answer again."""
        for conn in self._conns:
            conn.frozen = True

    async def drop_clients(self) -> None:
        """Close every client's websocket, as the printer does when its server restarts."""
        for conn in list(self._conns):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"restart")

    async def inject(self, fault: Fault) -> None:
        """One bad message to every client, shaped like a status push."""
        good = self._status_message()
        await self.broadcast_raw(hostile_message(fault, good, ("Status", "TempOfNozzle")))

    async def broadcast_raw(self, text: str) -> None:
        """Send ``text`` as-is to every client (bad-input tests)."""
        for conn in list(self._conns):
            await self._send_text(conn, text)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds; it is re-checked on every simulator event."""
        assert self._changed is not None
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify_changed(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    # ------------------------------------------------------------ main loop

    def _job_changed(self) -> None:
        if self._dirty is not None:
            self._dirty.set()

    async def _run(self) -> None:
        assert self._dirty is not None
        loop = asyncio.get_running_loop()
        last_body: dict[str, Any] | None = None
        last_push = 0.0
        last_phase = self.job.phase
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self.tick_interval)
            self._dirty.clear()
            now = loop.time()
            message = self._status_message()
            body = message["Status"]
            if body != last_body or now - last_push >= self.status_period:
                await self._broadcast(message)
                last_body, last_push = body, now
            if self.job.phase is Phase.ERROR and last_phase is not Phase.ERROR:
                await self._broadcast(self._error_message(ERROR_CODE_FAILED))
            last_phase = self.job.phase
            for conn in list(self._conns):
                if now - conn.last_rx > self.idle_timeout:
                    self.dropped_idle += 1
                    _LOGGER.debug("Dropping an idle SDCP client")
                    await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"idle")

    # ------------------------------------------------------------ websocket

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        if len(self._conns) + self.streams >= self.max_clients:
            self.refused += 1
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too many clients")
            await self._notify_changed()
            return ws
        conn = _Conn(ws, asyncio.get_running_loop().time())
        self._conns.add(conn)
        await self._notify_changed()
        # The printer announces itself to a new client, except while paused or failed.
        if self.send_attributes and self.job.phase not in (Phase.PAUSED, Phase.ERROR):
            await self._send(conn, self._attributes_message())
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    conn.last_rx = asyncio.get_running_loop().time()
                    await self._on_text(conn, msg.data)
        finally:
            self._conns.discard(conn)
            await self._notify_changed()
        return ws

    async def _on_text(self, conn: _Conn, text: str) -> None:
        if text == "ping":
            await self._send_text(conn, "pong")
            return
        try:
            envelope = json.loads(text)
            data = envelope["Data"]
            cmd = int(data["Cmd"])
            request_id = str(data.get("RequestID", ""))
            payload = data.get("Data") or {}
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.debug("Simulator ignoring a bad request: %s", err)
            return
        if not isinstance(payload, dict):
            _LOGGER.debug("Simulator ignoring a request whose Data is not an object")
            return
        self.requests.append((cmd, payload))
        ack, extra = await self._command(cmd, payload)
        await self._send(conn, self._response(cmd, request_id, {"Ack": ack, **extra}))
        if cmd == 0:
            await self._send(conn, self._status_message())
        elif cmd == 1 and self.send_attributes:
            await self._send(conn, self._attributes_message())
        await self._notify_changed()

    async def _broadcast(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        for conn in list(self._conns):
            await self._send_text(conn, text)

    async def _send(self, conn: _Conn, message: dict[str, Any]) -> None:
        await self._send_text(conn, json.dumps(message))

    async def _send_text(self, conn: _Conn, text: str) -> None:
        if conn.frozen or conn.ws.closed:
            return
        traffic.sent(self.kind)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.send_str(text)

    # ------------------------------------------------------------ video

    async def _video_handler(self, request: web.Request) -> web.StreamResponse:
        assert self._video_off is not None
        if not self.video_enabled:
            return web.Response(status=404, text="video is off: send Cmd 386 Enable=1 first")
        if self.streams >= 1 or len(self._conns) + self.streams >= self.max_clients:
            return web.Response(status=503, text="too many video clients")
        self.streams += 1
        await self._notify_changed()
        try:
            return await stream_mjpeg(
                request,
                self.camera,
                boundary="sdcpframe",
                interval=self.frame_interval,
                running=lambda: self.video_enabled and not self._stopping,
                stop=self._video_off,
            )
        finally:
            self.streams -= 1
            await self._notify_changed()


class _DiscoveryResponder(asyncio.DatagramProtocol):
    """Answers ``M99999`` like the printer does on UDP 3000."""

    def __init__(self, printer: ElegooSimulator) -> None:
        self._printer = printer
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if data.strip() == b"M99999" and self._transport is not None:
            self._transport.sendto(self._printer.discovery_reply(), addr)
