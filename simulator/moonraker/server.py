"""A simulated Moonraker + Klippy: aiohttp app with ``/websocket`` JSON-RPC and HTTP.

Speaks what a real Moonraker 0.11 speaks to printfarm's client: identify,
``server.info``/``printer.info``, object list/query/subscribe with
``notify_status_update`` deltas every 250 ms, ``notify_klippy_*`` events,
print pause/resume/cancel/start (answered ``"ok"`` whatever the state, like
Klipper), G-code scripts, emergency stop (Klippy ``shutdown``) and firmware
restart (disconnected -> ready, subscriptions dropped), webcams, file
metadata, uploads and thumbnails, and an MJPEG webcam at ``/webcam/``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import itertools
import json
import logging
import time
from typing import Any

from aiohttp import WSMsgType, web

from .. import traffic
from ..base import SimOptions, SimulatedPrinter
from ..camera import FrameSource, stream_mjpeg
from ..faults import Fault, hostile_message
from ..job import Phase, PrintJob
from .files import SimFile, demo_file, read_upload, scan_upload
from .klippy import KlippyHost, RpcError
from .objects import MachineState, build_objects, diff, select

_LOGGER = logging.getLogger(__name__)

PUSH_INTERVAL = 0.25
#: Sliced files every simulated Moonraker holds besides its job's.
DEMO_FILES = ("calibration_cube.gcode", "phone_stand.gcode")
#: JSON-RPC methods also served over HTTP, at /<method with dots as slashes>.
HTTP_GETS = (
    "server.info",
    "printer.info",
    "server.webcams.list",
    "machine.system_info",
    "server.files.metadata",
    "server.files.thumbnails",
    "server.files.list",
    "server.history.list",
    "printer.objects.list",
)
HTTP_POSTS = (
    "printer.print.pause",
    "printer.print.resume",
    "printer.print.cancel",
    "printer.print.start",
    "printer.emergency_stop",
    "printer.firmware_restart",
    "printer.gcode.script",
)


@dataclass(eq=False, slots=True)
class _Conn:
    ws: web.WebSocketResponse
    authorized: bool = False
    subscription: dict[str, Any] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)


class MoonrakerSimulator(KlippyHost, SimulatedPrinter):
    """Moonraker + Klippy on loopback; ``options.extra["api_key"]`` turns on auth."""

    kind = "moonraker"

    def __init__(self, job: PrintJob, camera: FrameSource, options: SimOptions) -> None:
        """Prepare the machine; ``start()`` opens the port."""
        super().__init__(job, camera, options)
        extra = options.extra
        self.api_key: str | None = extra.get("api_key")
        self.name = options.name or f"moonraker-sim-{options.index}"
        self.hostname = self.name  # Klipper reports the host name; the farm name stands in
        self.machine_id = f"{0x5EED0000 + options.index:032x}"
        self.restart_delay = float(extra.get("restart_delay", 0.3))
        self.machine = MachineState(
            has_chamber=bool(extra.get("chamber", True)),
            has_light=bool(extra.get("light", True)),
            light_is_led=extra.get("light") == "led",
            generic_fans=bool(extra.get("generic_fans", False)),
            job_duration_s=job.duration_s,
        )
        self.files: dict[str, SimFile] = {}
        self.history: list[dict[str, Any]] = []
        for demo in DEMO_FILES:
            self.files[demo] = demo_file(demo, 1200.0, 60)
        if job.file:
            self._add_demo(job.file)
            self.record_job(job.file)
        self.gcode_log: list[str] = []
        self._conns: set[_Conn] = set()
        self._ids = itertools.count(140265417366544)
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._port = 0
        job.add_listener(self._wake.set)

    def _add_demo(self, path: str) -> None:
        total = self.job.duration_s + self.job.heat_s
        record = demo_file(path, total, self.job.total_layers)
        self.files[path] = record
        self.machine.file_size = record.size

    # ----------------------------------------------------------- lifecycle

    async def start(self) -> dict[str, Any]:
        """Serve HTTP + websocket on ``options.host:options.port``; return the JSON line."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/websocket", self._websocket)
        for method in HTTP_GETS:
            app.router.add_get("/" + method.replace(".", "/"), self._http_rpc(method))
        for method in HTTP_POSTS:
            app.router.add_post("/" + method.replace(".", "/"), self._http_rpc(method))
        app.router.add_get("/printer/objects/query", self._objects_query)
        app.router.add_get("/access/info", self._access_info)
        app.router.add_post("/server/files/upload", self._upload)
        app.router.add_get("/server/files/gcodes/{path:.+}", self._gcode_file)
        app.router.add_get("/webcam/", self._webcam)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp exposes the bound socket only here
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1] if sockets else self.options.port
        self._spawn(self._pusher())
        line: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "host": self.options.host,
            "port": self._port,
        }
        if self.api_key:
            line["api_key"] = self.api_key
        return line

    async def stop(self) -> None:
        """Close every websocket, task and the listening socket; idempotent."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for conn in list(self._conns):
            with contextlib.suppress(Exception):
                await conn.ws.close()
        self._conns.clear()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def port(self) -> int:
        """The bound port (after ``start()``)."""
        return self._port

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ test hooks

    async def inject(self, fault: Fault) -> None:
        """One bad frame to every client, shaped like a ``notify_status_update``."""
        good = {
            "jsonrpc": "2.0",
            "method": "notify_status_update",
            "params": [{"extruder": {"temperature": 200.0}}, time.monotonic()],
        }
        await self.send_raw(hostile_message(fault, good, ("params", 0, "extruder", "temperature")))

    async def send_raw(self, data: str | bytes) -> None:
        """Send one raw frame to every websocket client (fault injection).

        A client may hang up before the frame is through (aiohttp 3.14 refuses an
        oversized frame by its header): that is the client's answer, not an error.
        """
        for conn in list(self._conns):
            with contextlib.suppress(ConnectionError):
                if isinstance(data, bytes):
                    await conn.ws.send_bytes(data)
                else:
                    await conn.ws.send_str(data)

    async def drop_connections(self) -> None:
        """Close every websocket as if the server restarted."""
        for conn in list(self._conns):
            await conn.ws.close()

    @property
    def connection_count(self) -> int:
        """Open websocket clients."""
        return len(self._conns)

    # ------------------------------------------------------------- state

    def objects(self) -> dict[str, dict[str, Any]]:
        """Every Klipper object as of now."""
        snap = self.job.tick()
        if self.job.phase is Phase.PRINTING and self.job.file in self.files:
            record = self.files[self.job.file]
            if record.error_at is not None and snap.progress >= record.error_at:
                self.job.fail(record.error_message or "Move out of range")
                snap = self.job.tick()
        return build_objects(snap, self.machine)

    async def _pusher(self) -> None:
        last_proc = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PUSH_INTERVAL):
                    await self._wake.wait()
            self._wake.clear()
            if self.machine.klippy_state in ("disconnected", "startup"):
                continue
            objects = self.objects()
            eventtime = time.monotonic()
            for conn in list(self._conns):
                if not conn.subscription:
                    continue
                current = select(objects, conn.subscription)
                changes = diff(conn.sent, current)
                conn.sent = current
                if changes:
                    await self._notify(conn, "notify_status_update", [changes, eventtime])
            if eventtime - last_proc >= 1.0:
                last_proc = eventtime
                stats = {
                    "moonraker_stats": {
                        "time": time.time(),
                        "cpu_usage": 1.0,
                        "memory": 52000,
                        "mem_units": "kB",
                    },
                    "cpu_temp": None,
                    "network": {},
                    "system_cpu_usage": {},
                    "system_memory": {},
                    "websocket_connections": len(self._conns),
                }
                for conn in list(self._conns):
                    await self._notify(conn, "notify_proc_stat_update", [stats])

    async def _notify(self, conn: _Conn, method: str, params: list[Any] | None = None) -> None:
        if not conn.authorized:
            return
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._send(conn, json.dumps(message))

    async def _send(self, conn: _Conn, text: str) -> None:
        traffic.sent(self.kind)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.send_str(text)

    async def _broadcast(self, method: str, params: list[Any] | None = None) -> None:
        for conn in list(self._conns):
            await self._notify(conn, method, params)

    # ------------------------------------------------------------- auth

    def _authorized(self, request: web.Request) -> bool:
        if not self.api_key:
            return True
        return self.api_key in (request.headers.get("X-Api-Key"), request.query.get("token"))

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.json_response({"error": {"code": 401, "message": "Unauthorized"}}, status=401)

    # ------------------------------------------------------------- websocket

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        # Like Moonraker 0.11: the upgrade always succeeds; without a valid key
        # (header, ?token= or identify) every call answers -32602 "Unauthorized".
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        conn = _Conn(ws, authorized=self._authorized(request))
        self._conns.add(conn)
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                await self._handle_frame(conn, msg.data)
        finally:
            self._conns.discard(conn)
        return ws

    async def _handle_frame(self, conn: _Conn, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            await conn.ws.send_str(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "error": {"code": -32700, "message": "Parse error"},
                        "id": None,
                    }
                )
            )
            return
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return
        request_id = request.get("id")
        params = request.get("params")
        reply: dict[str, Any] = {"jsonrpc": "2.0"}
        try:
            reply["result"] = await self._call(
                request["method"], params if isinstance(params, dict) else {}, conn
            )
        except RpcError as err:
            reply["error"] = {"code": err.code, "message": str(err)}
        if request_id is None:
            return
        reply["id"] = request_id
        await self._send(conn, json.dumps(reply))

    def _http_rpc(self, method: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            if not self._authorized(request):
                return self._unauthorized()
            params: dict[str, Any] = dict(request.query)
            try:
                result = await self._call(method, params, None)
            except RpcError as err:
                return web.json_response(
                    {"error": {"code": err.code, "message": str(err)}}, status=err.code
                )
            return web.json_response({"result": result})

        return handler

    # ------------------------------------------------------------- HTTP

    async def _objects_query(self, request: web.Request) -> web.Response:
        """``GET /printer/objects/query?print_stats&extruder=target,temperature``."""
        if not self._authorized(request):
            return self._unauthorized()
        wanted = {
            name: (value.split(",") if value else None) for name, value in request.query.items()
        }
        try:
            result = await self._call("printer.objects.query", {"objects": wanted}, None)
        except RpcError as err:
            # Moonraker answers Klippy routes with 404 while Klippy is away
            status = 404 if err.code == 503 else err.code
            return web.json_response(
                {"error": {"code": status, "message": str(err)}}, status=status
            )
        return web.json_response({"result": result})

    async def _access_info(self, request: web.Request) -> web.Response:
        sources = {"default_source": "moonraker", "available_sources": ["moonraker"]}
        info = {**sources, "login_required": False, "trusted": not self.api_key}
        return web.json_response({"result": info})

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        upload = await read_upload(request)
        if upload is None:
            return web.json_response({"error": {"code": 400, "message": "bad file"}}, status=400)
        path, data = upload
        record = scan_upload(path, data)
        self.files[path] = record
        item = {
            "modified": record.modified,
            "size": record.size,
            "permissions": "rw",
            "path": path,
            "root": "gcodes",
        }
        await self._broadcast("notify_filelist_changed", [{"action": "create_file", "item": item}])
        return web.json_response(
            {"action": "create_file", "item": item, "print_started": False, "print_queued": False},
            status=201,
        )

    async def _gcode_file(self, request: web.Request) -> web.Response:
        # Like the real server, thumbnails under gcodes/ are served without a key.
        path = request.match_info["path"]
        for record in self.files.values():
            if path in record.thumbnails:
                return web.Response(body=record.thumbnails[path][2], content_type="image/png")
        return web.json_response({"error": {"code": 404, "message": "File not found"}}, status=404)

    async def _webcam(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("action", "stream") == "snapshot":
            return web.Response(body=self.camera.frame(), content_type="image/jpeg")
        return await stream_mjpeg(request, self.camera)
