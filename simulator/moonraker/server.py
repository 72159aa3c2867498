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
import re
import time
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from ..base import SimOptions, SimulatedPrinter
from ..camera import FrameSource
from ..job import ACTIVE, JobError, Phase, PrintJob
from .files import SimFile, demo_file, scan_upload
from .objects import GENERIC_FANS, MachineState, build_objects, diff, object_names, select

_LOGGER = logging.getLogger(__name__)

PUSH_INTERVAL = 0.25
SHUTDOWN_MESSAGE = (
    "Shutdown due to webhooks request\n"
    "Once the underlying issue is corrected, use the\n"
    '"FIRMWARE_RESTART" command to reset the firmware, reload the\n'
    "config, and restart the host software.\n"
    "Printer is shutdown\n"
)
MJPEG_BOUNDARY = "printfarmframe"
_PARAM = re.compile(r"([A-Za-z_]+)=(\S+)")
_WORD = re.compile(r"([A-Za-z])(-?\d+(?:\.\d*)?)")


class RpcError(Exception):
    """A JSON-RPC error reply (code, message) as Moonraker sends them."""

    def __init__(self, code: int, message: str) -> None:
        """Keep the code next to the message."""
        super().__init__(message)
        self.code = code


@dataclass(eq=False, slots=True)
class _Conn:
    ws: web.WebSocketResponse
    authorized: bool = False
    subscription: dict[str, Any] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)


class MoonrakerSimulator(SimulatedPrinter):
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
        if job.file:
            self._add_demo(job.file)
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
        app.router.add_get("/server/info", self._http_rpc("server.info"))
        app.router.add_get("/printer/info", self._http_rpc("printer.info"))
        app.router.add_get("/server/webcams/list", self._http_rpc("server.webcams.list"))
        app.router.add_get("/machine/system_info", self._http_rpc("machine.system_info"))
        app.router.add_get("/server/files/metadata", self._http_rpc("server.files.metadata"))
        app.router.add_get("/server/files/thumbnails", self._http_rpc("server.files.thumbnails"))
        app.router.add_post("/printer/print/pause", self._http_rpc("printer.print.pause"))
        app.router.add_post("/printer/print/resume", self._http_rpc("printer.print.resume"))
        app.router.add_post("/printer/print/cancel", self._http_rpc("printer.print.cancel"))
        app.router.add_post("/printer/print/start", self._http_rpc("printer.print.start"))
        app.router.add_post("/printer/emergency_stop", self._http_rpc("printer.emergency_stop"))
        app.router.add_post("/printer/firmware_restart", self._http_rpc("printer.firmware_restart"))
        app.router.add_post("/printer/gcode/script", self._http_rpc("printer.gcode.script"))
        app.router.add_get("/printer/objects/list", self._http_rpc("printer.objects.list"))
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
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.send_str(json.dumps(message))

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
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.send_str(json.dumps(reply))

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

    # ------------------------------------------------------------- methods

    def _require_klippy(self, method: str) -> None:
        if self.machine.klippy_state in ("disconnected", "startup"):
            raise RpcError(503, f"{method}: Klippy Disconnected")

    async def _call(self, method: str, params: dict[str, Any], conn: _Conn | None) -> Any:
        machine = self.machine
        if method == "server.connection.identify":
            key = params.get("api_key")
            if self.api_key and key is not None:
                if key != self.api_key:
                    raise RpcError(-32602, "Invalid API Key")
                if conn is not None:
                    conn.authorized = True
            return {"connection_id": next(self._ids)}
        if conn is not None and not conn.authorized:
            raise RpcError(-32602, "Unauthorized")
        if method == "server.info":
            return self._server_info()
        if method == "machine.system_info":
            return {
                "system_info": {
                    "machine_id": self.machine_id,
                    "provider": "none",
                    "cpu_info": {"cpu_count": 2, "processor": "x86_64"},
                }
            }
        if method == "server.webcams.list":
            return {"webcams": [self._webcam_entry()]}
        if method == "server.files.metadata":
            record = self.files.get(str(params.get("filename", "")))
            if record is None:
                raise RpcError(404, f"Metadata not available for <{params.get('filename')}>")
            return record.metadata()
        if method == "server.files.thumbnails":
            record = self.files.get(str(params.get("filename", "")))
            return record.thumbnail_list() if record else []
        self._require_klippy(method)
        if method == "printer.info":
            return self._printer_info()
        if method == "printer.objects.list":
            return {"objects": object_names(machine)}
        if method in ("printer.objects.subscribe", "printer.objects.query"):
            wanted = params.get("objects")
            wanted = wanted if isinstance(wanted, dict) else {}
            status = select(self.objects(), wanted)
            if method == "printer.objects.subscribe" and conn is not None:
                conn.subscription = wanted
                conn.sent = status
            return {"eventtime": time.monotonic(), "status": status}
        if method == "printer.emergency_stop":
            await self._shutdown(SHUTDOWN_MESSAGE)
            return "ok"
        if method in ("printer.firmware_restart", "printer.restart"):
            self._spawn(self._restart())
            return "ok"
        if machine.klippy_state != "ready":
            raise RpcError(400, f"Klippy is {machine.klippy_state}")
        if method == "printer.print.pause":
            with contextlib.suppress(JobError):
                self.job.pause()
            return "ok"
        if method == "printer.print.resume":
            with contextlib.suppress(JobError):
                self.job.resume()
            return "ok"
        if method == "printer.print.cancel":
            with contextlib.suppress(JobError):
                self.job.cancel()
            return "ok"
        if method == "printer.print.start":
            self._start_print(str(params.get("filename", "")))
            return "ok"
        if method == "printer.gcode.script":
            self._run_script(str(params.get("script", "")))
            return "ok"
        raise RpcError(-32601, f"Method not found: {method}")

    def _server_info(self) -> dict[str, Any]:
        state = self.machine.klippy_state
        return {
            "klippy_connected": state != "disconnected",
            "klippy_state": state,
            "components": [
                "klippy_connection",
                "jsonrpc",
                "websockets",
                "file_manager",
                "authorization",
                "machine",
                "webcam",
                "history",
            ],
            "failed_components": [],
            "registered_directories": ["config", "logs", "gcodes"],
            "warnings": [],
            "websocket_count": len(self._conns),
            "moonraker_version": "0.11.0",
            "missing_klippy_requirements": [],
            "api_version": [1, 5, 0],
            "api_version_string": "1.5.0",
        }

    def _printer_info(self) -> dict[str, Any]:
        return {
            "state": self.machine.klippy_state,
            "state_message": self.machine.klippy_message,
            "hostname": self.hostname,
            "klipper_path": "/home/pi/klipper",
            "python_path": "/home/pi/klippy-env/bin/python3",
            "process_id": 4242,
            "user_id": 1000,
            "group_id": 1000,
            "log_file": "/home/pi/printer_data/logs/klippy.log",
            "config_file": "/home/pi/printer_data/config/printer.cfg",
            "software_version": "v0.12.0-sim",
            "cpu_info": "simulated",
        }

    def _webcam_entry(self) -> dict[str, Any]:
        return {
            "name": "printercam",
            "enabled": True,
            "icon": "mdiWebcam",
            "aspect_ratio": "4:3",
            "target_fps": 15,
            "target_fps_idle": 5,
            "location": "printer",
            "service": "mjpegstreamer",
            "stream_url": "/webcam/?action=stream",
            "snapshot_url": "/webcam/?action=snapshot",
            "flip_horizontal": False,
            "flip_vertical": False,
            "rotation": 0,
            "source": "config",
            "extra_data": {},
            "uid": "b8dfd7e1-ea86-504b-bccf-52e8bd88e084",
        }

    def _start_print(self, filename: str) -> None:
        record = self.files.get(filename)
        if record is None:
            raise RpcError(400, f'Unable to open file "{filename}"')
        if self.job.phase in ACTIVE:
            raise RpcError(400, "Print is already in progress")
        if record.total_layers:
            self.job.total_layers = record.total_layers
        self.machine.file_size = record.size
        self.job.start(filename)

    def _run_script(self, script: str) -> None:
        for raw in script.splitlines():
            line = raw.split(";", 1)[0].strip()
            if line:
                self.gcode_log.append(line)
                self._run_line(line)

    def _run_line(self, line: str) -> None:
        command, _, rest = line.partition(" ")
        command = command.upper()
        params = {k.upper(): v for k, v in _PARAM.findall(rest)}
        words = {k.upper(): float(v) for k, v in _WORD.findall(rest)}
        job = self.job
        if command == "SET_HEATER_TEMPERATURE":
            target = float(params.get("TARGET", 0))
            heater = params.get("HEATER", "")
            if heater == "extruder":
                job.set_nozzle_target(target)
            elif heater == "heater_bed":
                job.set_bed_target(target)
            else:
                raise RpcError(400, f'Unknown heater "{heater}"')
        elif command in ("M104", "M109"):
            job.set_nozzle_target(words.get("S", 0.0))
        elif command in ("M140", "M190"):
            job.set_bed_target(words.get("S", 0.0))
        elif command == "M220":
            job.set_speed_factor(round(words.get("S", 100.0)))
        elif command == "M106":
            job.set_fan("part", round(min(255.0, words.get("S", 255.0)) * 100 / 255))
            self._wake.set()
        elif command == "M107":
            job.set_fan("part", 0)
            self._wake.set()
        elif command == "SET_FAN_SPEED" and self.machine.generic_fans:
            fan = GENERIC_FANS.get(f"fan_generic {params.get('FAN', '')}")
            if fan is None:
                raise RpcError(400, f"The value '{params.get('FAN')}' is not valid for FAN")
            try:
                speed = float(params.get("SPEED", ""))
            except ValueError:
                raise RpcError(400, "SET_FAN_SPEED needs SPEED=<0-1>") from None
            job.set_fan(fan, round(min(1.0, max(0.0, speed)) * 100))
        elif command in ("SET_PIN", "SET_LED") and self.machine.has_light:
            kind, _, name = self.machine.light_object.partition(" ")
            given = params.get("PIN" if command == "SET_PIN" else "LED")
            if given != name or (command == "SET_PIN") != (kind == "output_pin"):
                raise RpcError(400, f"{command}: {given} is not configured")
            key = "VALUE" if command == "SET_PIN" else "WHITE"
            self.machine.light_value = float(params.get(key, 0))
            job.set_light(self.machine.light_value > 0)
        elif command in ("G0", "G1"):
            for axis in "XYZ":
                value = words.get(axis)
                if value is not None and not -5.0 <= value <= 200.0:
                    raise RpcError(400, f"Move out of range: {value:.3f}")
        elif command in ("PAUSE", "RESUME", "CANCEL_PRINT"):
            action = {"PAUSE": job.pause, "RESUME": job.resume, "CANCEL_PRINT": job.cancel}
            with contextlib.suppress(JobError):
                action[command]()
        elif command in (
            "G28",
            "G90",
            "G91",
            "M82",
            "M83",
            "M105",
            "M400",
            "M117",
            "G4",
            "SET_KINEMATIC_POSITION",
            "SET_PRINT_STATS_INFO",
        ):
            pass
        elif command == "FIRMWARE_RESTART":
            self._spawn(self._restart())
        else:  # Klipper answers unknown commands with a message, not an error
            self._spawn(self._broadcast("notify_gcode_response", [f'Unknown command:"{command}"']))

    async def _shutdown(self, message: str) -> None:
        if self.job.phase in ACTIVE:
            with contextlib.suppress(JobError):
                self.job.cancel()
        self.machine.klippy_state = "shutdown"
        self.machine.klippy_message = message
        await self._broadcast("notify_klippy_shutdown")
        self._wake.set()

    async def _restart(self) -> None:
        """FIRMWARE_RESTART: Klippy disconnects, comes back in startup, then ready."""
        await asyncio.sleep(0.05)
        self.machine.klippy_state = "disconnected"
        self.machine.klippy_message = "Klippy Disconnected"
        for conn in self._conns:
            conn.subscription = {}
            conn.sent = {}
        await self._broadcast("notify_klippy_disconnected")
        await asyncio.sleep(self.restart_delay / 2)
        self.machine.klippy_state = "startup"
        self.machine.klippy_message = "Printer is not ready"
        # a restarted Klippy has forgotten any job: print_stats is back to standby
        with contextlib.suppress(JobError):
            if self.job.phase in ACTIVE:
                self.job.cancel()
            self.job.clear()
        await asyncio.sleep(self.restart_delay / 2)
        self.machine.klippy_state = "ready"
        self.machine.klippy_message = "Printer is ready"
        await self._broadcast("notify_klippy_ready")
        self._wake.set()

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
        return web.json_response(
            {
                "result": {
                    "default_source": "moonraker",
                    "available_sources": ["moonraker"],
                    "login_required": False,
                    "trusted": not self.api_key,
                }
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        reader = await request.multipart()
        path = ""
        data = b""
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file":
                path = part.filename or "upload.gcode"
                data = await part.read()
            elif part.name == "path":
                folder = (await part.text()).strip("/")
                path = f"{folder}/{path}" if folder and path else path
        if not path or ".." in path.split("/"):
            return web.json_response({"error": {"code": 400, "message": "bad file"}}, status=400)
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
        action = request.query.get("action", "stream")
        if action == "snapshot":
            return web.Response(body=self.camera.frame(), content_type="image/jpeg")
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace;boundary={MJPEG_BOUNDARY}",
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                frame = self.camera.frame()
                await response.write(
                    f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(frame)}\r\n\r\n".encode()
                    + frame
                    + b"\r\n"
                )
                await asyncio.sleep(0.2)
        return response
