"""A simulated OctoPrint 1.11 server (aiohttp) with a printer behind it.

It answers the REST API printfarm uses with the same field names, types,
status codes and error texts as real OctoPrint 1.11.8 with its virtual
printer (see tests/fixtures/octoprint/): ``/api/version``, ``/api/server``,
``/api/connection``, ``/api/printer`` (409 while the printer is not
connected), ``/api/job``, ``/api/settings``, ``/api/files``,
``/api/login`` + ``/sockjs/websocket`` push, the App Keys plugin and a
webcam (``/webcam/?action=snapshot`` and ``?action=stream``).

Extra options (``SimOptions.extra``): ``api_key``, ``appkey_auto_approve``
(approve a pending app key after this many polls; None = wait for a
decision), ``appkey_rate_limit`` (enforce OctoPrint's 3 requests/minute),
``thumbnails`` (job files carry a slicer-thumbnail plugin's ``thumbnail``; on by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from typing import Any, ClassVar
import uuid

from aiohttp import BodyPartReader, WSMsgType, web

from .base import SimOptions, SimulatedPrinter
from .camera import FrameSource
from .job import JobError, Phase, PrintJob, Snapshot

VERSION = "1.11.8"
NOT_OPERATIONAL = "Printer is not operational"
FORBIDDEN = (
    "You don't have the permission to access the requested resource. "
    "It is either read-protected or not readable by the server."
)
MAXTEMP = "MAXTEMP triggered! - Not SD printing"
_NOT_ACTIVE = "Printer is neither printing nor paused, '{}' command cannot be performed"
_BOUNDARY = "frame"

_STATE_TEXT: dict[Phase, str] = {
    Phase.IDLE: "Operational",
    Phase.HEATING: "Printing",  # the virtual printer heats inside the job (M190/M109)
    Phase.PRINTING: "Printing",
    Phase.PAUSED: "Paused",
    Phase.FINISHED: "Operational",
    Phase.CANCELLED: "Operational",
    Phase.ERROR: "Offline after error",
}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _error(status: int, text: str) -> web.Response:
    return _json({"error": text}, status)


class OctoPrintSimulator(SimulatedPrinter):
    """OctoPrint + virtual printer, driven by a shared PrintJob."""

    kind: ClassVar[str] = "octoprint"

    def __init__(self, job: PrintJob, camera: FrameSource, options: SimOptions) -> None:
        """Prepare the app; ``start()`` binds it."""
        super().__init__(job, camera, options)
        extra = options.extra
        self.api_key: str = str(extra.get("api_key") or secrets.token_hex(16).upper())
        self.admin = "admin"
        self.name = options.name or f"OctoPrint sim {options.index}"
        self.uuid = str(extra.get("uuid") or uuid.uuid4())
        self.printer_connected = job.phase is not Phase.ERROR
        self.appkey_auto_approve: int | None = extra.get("appkey_auto_approve")
        self.appkey_rate_limit: bool = bool(extra.get("appkey_rate_limit", False))
        self.thumbnails: bool = bool(extra.get("thumbnails", True))
        self.app_keys: dict[str, str] = {}  # key -> app name
        self._pending: dict[str, dict[str, Any]] = {}  # app token -> request
        self._granted: dict[str, str] = {}  # app token -> key (handed out once)
        self._requests: list[float] = []
        self._sessions: dict[str, str] = {}  # session -> user
        self._sockets: set[web.WebSocketResponse] = set()
        #: Set whenever a push client has authenticated (tests wait on it).
        self.push_client_authed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        #: Camera URLs as a user would type them (None: the simulator's own webcam).
        self.snapshot_url: str | None = None
        self.stream_url: str | None = None
        self.port = 0
        self.job.add_listener(self._on_job_change)

    # ----------------------------------------------------------- lifecycle

    async def start(self) -> dict[str, Any]:
        """Serve on ``options.host``/``options.port``; return the JSON line."""
        app = web.Application(middlewares=[self._auth])
        app.add_routes(
            [
                web.get("/api/version", self._version),
                web.get("/api/server", self._server),
                web.get("/api/connection", self._connection),
                web.post("/api/connection", self._connection_command),
                web.get("/api/printer", self._printer),
                web.post("/api/printer/tool", self._tool),
                web.post("/api/printer/bed", self._bed),
                web.post("/api/printer/command", self._gcode),
                web.get("/api/job", self._job),
                web.post("/api/job", self._job_command),
                web.get("/api/settings", self._settings),
                web.post("/api/settings", self._save_settings),
                web.get("/api/files", self._files),
                web.post("/api/files/local", self._upload),
                web.get("/api/files/{origin}/{path:.+}", self._file),
                web.post("/api/login", self._login),
                web.get("/sockjs/websocket", self._websocket),
                web.get("/webcam/", self._webcam),
                web.get("/plugin/discovery/discovery.xml", self._discovery),
                web.get("/plugin/prusaslicerthumbnails/thumbnail/{name}", self._thumbnail),
                web.get("/plugin/appkeys/probe", self._appkeys_probe),
                web.post("/plugin/appkeys/request", self._appkeys_request),
                web.get("/plugin/appkeys/request/{token}", self._appkeys_poll),
                web.post("/plugin/appkeys/decision/{token}", self._appkeys_decision),
                web.get("/api/plugin/appkeys", self._appkeys_list),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp keeps the bound socket here
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.options.port
        self._pusher = asyncio.create_task(self._push_loop(), name="octoprint sim push")
        return {
            "kind": self.kind,
            "name": self.name,
            "host": self.options.host,
            "port": self.port,
            "api_key": self.api_key,
        }

    async def stop(self) -> None:
        """Close sockets, the push task and the server; idempotent."""
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ------------------------------------------------------------- helpers

    def _on_job_change(self) -> None:
        if self.job.phase is Phase.ERROR:
            self.printer_connected = False  # a firmware error closes the serial link
        self._changed.set()

    def _user_for(self, request: web.Request) -> str | None:
        key = request.headers.get("X-Api-Key") or request.query.get("apikey")
        auth = request.headers.get("Authorization", "")
        if not key and auth.startswith("Bearer "):
            key = auth[7:]
        if not key:
            return None
        if secrets.compare_digest(key, self.api_key):
            return self.admin
        return self.admin if key in self.app_keys else None

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        public = path.startswith(
            ("/plugin/appkeys/", "/webcam/", "/sockjs/")
        ) and not path.startswith("/plugin/appkeys/decision")
        if not public and self._user_for(request) is None:
            return _error(403, FORBIDDEN)
        response: web.StreamResponse = await handler(request)
        return response

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "Malformed JSON body in request"}),
                content_type="application/json",
            ) from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "Expected JSON object"}),
                content_type="application/json",
            )
        return data

    def _flags(self, snap: Snapshot) -> dict[str, bool]:
        connected = self.printer_connected
        printing = connected and snap.phase in (Phase.HEATING, Phase.PRINTING)
        paused = connected and snap.phase is Phase.PAUSED
        return {
            "cancelling": False,
            "closedOrError": not connected,
            "error": snap.phase is Phase.ERROR,
            "finishing": False,
            "operational": connected,
            "paused": paused,
            "pausing": False,
            "printing": printing,
            "ready": connected and not printing and not paused,
            "resuming": False,
            "sdReady": connected,
        }

    def _state_text(self, snap: Snapshot) -> str:
        if not self.printer_connected:
            return "Offline after error" if snap.phase is Phase.ERROR else "Offline"
        return _STATE_TEXT[snap.phase]

    def _job_payload(self, snap: Snapshot) -> dict[str, Any]:
        connected = self.printer_connected
        name = snap.file if connected else None
        size = 9330 if name else None
        completion: float | None = None
        print_time: int | None = None
        left: int | None = None
        filepos: int | None = None
        if connected and snap.phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED):
            completion = snap.progress * 100.0
            print_time = int(snap.elapsed_s)
            left = int(snap.remaining_s)
            filepos = int((size or 0) * snap.progress)
        elif connected and snap.phase is Phase.FINISHED:
            completion, print_time, left, filepos = 100.0, 0, 0, size
        progress = {
            "completion": completion,
            "filepos": filepos,
            "printTime": print_time,
            "printTimeLeft": left,
            "printTimeLeftOrigin": "linear" if left is not None else None,
        }
        if name is None and snap.phase is not Phase.ERROR:
            # nothing selected: OctoPrint sends a shorter job block (no display, filament dict)
            job: dict[str, Any] = {
                "estimatedPrintTime": None,
                "filament": {"length": None, "volume": None},
                "file": dict.fromkeys(("date", "name", "origin", "path", "size")),
                "lastPrintTime": None,
                "user": None,
            }
            return {"job": job, "progress": progress}
        job = {
            "averagePrintTime": None,
            "estimatedPrintTime": None,
            "filament": None,
            "file": {
                "date": 1795238616 if name else None,
                "display": name,
                "name": name,
                "origin": "local" if name else None,
                "path": name,
                "size": size,
            },
            "lastPrintTime": None,
            "user": self.admin if name else None,
        }
        return {"job": job, "progress": progress}

    def _heaters(self, snap: Snapshot) -> dict[str, Any]:
        return {
            "bed": {"actual": snap.bed_temp, "offset": 0, "target": snap.bed_target},
            "tool0": {"actual": snap.nozzle_temp, "offset": 0, "target": snap.nozzle_target},
        }

    # ---------------------------------------------------------------- REST

    async def _version(self, _: web.Request) -> web.Response:
        return _json({"api": "0.1", "server": VERSION, "text": f"OctoPrint {VERSION}"})

    async def _server(self, _: web.Request) -> web.Response:
        return _json({"safemode": None, "version": VERSION})

    async def _connection(self, _: web.Request) -> web.Response:
        connected = self.printer_connected
        return _json(
            {
                "current": {
                    "baudrate": 115200 if connected else None,
                    "port": "VIRTUAL" if connected else None,
                    "printerProfile": "_default",
                    "state": "Operational" if connected else "Closed",
                },
                "options": {
                    "baudratePreference": None,
                    "baudrates": [250000, 230400, 115200, 57600, 38400, 19200, 9600],
                    "portPreference": None,
                    "ports": ["VIRTUAL"],
                    "printerProfilePreference": "_default",
                    "printerProfiles": [{"id": "_default", "name": "Default"}],
                },
            }
        )

    async def _connection_command(self, request: web.Request) -> web.Response:
        data = await self._body(request)
        command = data.get("command")
        if command == "connect":
            if self.job.phase is Phase.ERROR:
                self.job.clear()
            self.printer_connected = True
        elif command == "disconnect":
            self.printer_connected = False
        else:
            return _error(400, "Unknown command")
        self._changed.set()
        return web.Response(status=204)

    async def _printer(self, _: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        snap = self.job.tick()
        text = self._state_text(snap)
        return _json(
            {
                "sd": {"ready": True},
                "state": {"error": "", "flags": self._flags(snap), "text": text},
                "temperature": self._heaters(snap),
            }
        )

    async def _tool(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        targets = data.get("targets")
        if data.get("command") != "target" or not isinstance(targets, dict):
            return _error(400, "Unknown command")
        value = targets.get("tool0")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return _error(400, "Not a number for tool0")
        self.job.set_nozzle_target(float(value))
        return web.Response(status=204)

    async def _bed(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        value = data.get("target")
        if data.get("command") != "target":
            return _error(400, "Unknown command")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return _error(400, "Not a number")
        self.job.set_bed_target(float(value))
        return web.Response(status=204)

    async def _gcode(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        commands = data.get("commands")
        if commands is None and isinstance(data.get("command"), str):
            commands = [data["command"]]
        if not isinstance(commands, list):
            return _error(400, "Need either a single command or a list of commands")
        for line in commands:
            self._run_gcode(str(line).strip())
        return web.Response(status=204)

    def _run_gcode(self, line: str) -> None:
        if line.startswith("!!DEBUG:"):
            action = line.removeprefix("!!DEBUG:")
            if action == "maxtemp_error":
                self.job.fail(MAXTEMP)
            elif action == "action_disconnect":
                self.printer_connected = False
                self._changed.set()
            return
        words = line.upper().split()
        if not words:
            return
        if words[0] == "M107":
            self.job.set_fan("part", 0)
            return
        if words[0] == "M106":  # OctoPrint never reports fans; the job keeps the speed
            pwm = next((float(w[1:]) for w in words[1:] if w.startswith("S") and _num(w[1:])), 255)
            self.job.set_fan("part", round(min(255.0, max(0.0, pwm)) * 100 / 255))
            return
        value = next((float(w[1:]) for w in words[1:] if w.startswith("S") and _num(w[1:])), None)
        if value is None:
            return
        if words[0] in ("M104", "M109"):
            self.job.set_nozzle_target(value)
        elif words[0] in ("M140", "M190"):
            self.job.set_bed_target(value)

    async def _job(self, _: web.Request) -> web.Response:
        snap = self.job.tick()
        body = self._job_payload(snap)
        body["state"] = self._state_text(snap)
        if snap.phase is Phase.ERROR and snap.error:
            body["error"] = snap.error
        return _json(body)

    async def _job_command(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        command = data.get("command")
        phase = self.job.tick().phase
        active = phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED)
        try:
            if command == "start":
                if active:
                    return _error(
                        409, "Printer already has an active print job, did you mean 'restart'?"
                    )
                self.job.start(self.job.file)
            elif command == "pause":
                if not active:
                    return _error(409, _NOT_ACTIVE.format("pause"))
                action = data.get("action", "toggle")
                if action not in ("pause", "resume", "toggle"):
                    return _error(400, "Unknown action")
                if action == "toggle":
                    action = "resume" if phase is Phase.PAUSED else "pause"
                if action == "pause" and phase is not Phase.PAUSED:
                    self.job.pause()
                elif action == "resume" and phase is Phase.PAUSED:
                    self.job.resume()
            elif command == "cancel":
                if not active:
                    return _error(409, _NOT_ACTIVE.format("cancel"))
                self.job.cancel()
            else:
                return _error(400, f"Command {command!r} is not supported")
        except JobError as err:
            return _error(409, str(err))
        return web.Response(status=204)

    async def _settings(self, request: web.Request) -> web.Response:
        # the snapshot URL points at the host's own loopback, the stream URL is relative:
        # both shapes real installs have (OctoPi default / proxied mjpg-streamer)
        snapshot = self.snapshot_url
        if snapshot is None:
            snapshot = f"http://127.0.0.1:{self.port}/webcam/?action=snapshot"
        stream = "/webcam/?action=stream" if self.stream_url is None else self.stream_url
        compat = {"snapshot": snapshot, "stream": stream, "snapshotTimeout": 5}
        return _json(
            {
                "api": {"allowCrossOrigin": False},
                "appearance": {"name": self.name, "color": "default"},
                "feature": {"sdSupport": True},
                "webcam": {
                    "webcamEnabled": True,
                    "defaultWebcam": "classic",
                    "snapshotWebcam": "classic",
                    "snapshotUrl": snapshot,
                    "streamUrl": stream,
                    "webcams": [
                        {
                            "name": "classic",
                            "displayName": "Classic Webcam",
                            "provider": "classicwebcam",
                            "canSnapshot": True,
                            "compat": compat,
                        }
                    ],
                },
                "plugins": {"classicwebcam": {"snapshot": snapshot, "stream": stream}},
            }
        )

    async def _save_settings(self, request: web.Request) -> web.Response:
        """Only the classic webcam URLs can be changed (what the tests need)."""
        data = await self._body(request)
        plugins = data.get("plugins")
        classic = plugins.get("classicwebcam") if isinstance(plugins, dict) else None
        if isinstance(classic, dict):
            if isinstance(classic.get("snapshot"), str):
                self.snapshot_url = classic["snapshot"]
            if isinstance(classic.get("stream"), str):
                self.stream_url = classic["stream"]
        return await self._settings(request)

    def _file_entry(self, name: str) -> dict[str, Any]:
        base = f"http://{self.options.host}:{self.port}"
        extra: dict[str, Any] = {}
        if self.thumbnails:
            # the shape the PrusaSlicer-thumbnails plugin adds: relative, with a cache buster
            extra["thumbnail"] = f"plugin/prusaslicerthumbnails/thumbnail/{name}.jpg?1795238616"
            extra["thumbnail_src"] = "prusaslicerthumbnails"
        return extra | {
            "date": 1795238616,
            "display": name,
            "hash": hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest(),
            "name": name,
            "origin": "local",
            "path": name,
            "refs": {
                "download": f"{base}/downloads/files/local/{name}",
                "resource": f"{base}/api/files/local/{name}",
            },
            "size": 9330,
            "type": "machinecode",
            "typePath": ["machinecode", "gcode"],
            "user": self.admin,
        }

    async def _files(self, _: web.Request) -> web.Response:
        files = [self._file_entry(self.job.file)] if self.job.file else []
        return _json({"files": files, "free": 81563660288, "total": 270553174016})

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if request.match_info["origin"] != "local" or path != self.job.file:
            return _error(404, "File not found")
        return _json(self._file_entry(path))

    async def _upload(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/"):
            return _error(400, "No file included")
        reader = await request.multipart()
        name: str | None = None
        fields: dict[str, str] = {}
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file" and part.filename:
                name = part.filename
                await part.read()
            elif part.name:
                fields[part.name] = (await part.text()).strip().lower()
        if name is None:
            return _error(400, "No file included")
        select = fields.get("select") == "true"
        start = fields.get("print") == "true"
        phase = self.job.tick().phase
        if start and (
            not self.printer_connected or phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED)
        ):
            return _error(409, "Printer is not operational or currently printing")
        if select or start:
            self.job.file = name
        if start:
            self.job.start(name)
        entry = self._file_entry(name)
        return _json(
            {
                "done": True,
                "effectivePrint": start,
                "effectiveSelect": select or start,
                "files": {"local": {k: entry[k] for k in ("name", "origin", "path", "refs")}},
            },
            201,
        )

    async def _discovery(self, _: web.Request) -> web.Response:
        """What the bundled discovery plugin serves: UPnP device description."""
        xml = (
            '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0">'
            "<specVersion><major>1</major><minor>0</minor></specVersion><device>"
            "<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>"
            f"<friendlyName>{self.name}</friendlyName>"
            "<manufacturer>The OctoPrint Project</manufacturer>"
            f"<UDN>uuid:{self.uuid}</UDN></device></root>"
        )
        return web.Response(text=xml, content_type="text/xml")

    # ------------------------------------------------------------ webcam

    async def _thumbnail(self, request: web.Request) -> web.Response:
        name = request.match_info["name"].removesuffix(".jpg")
        if not self.thumbnails or name != self.job.file:
            return web.Response(status=404)
        return web.Response(body=self.camera.frame(), content_type="image/jpeg")

    async def _webcam(self, request: web.Request) -> web.StreamResponse:
        action = request.query.get("action")
        if action == "snapshot":
            return web.Response(body=self.camera.frame(), content_type="image/jpeg")
        if action != "stream":
            return web.Response(status=404, text="unknown action")
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace;boundary={_BOUNDARY}"}
        )
        await response.prepare(request)
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                frame = self.camera.frame()
                await response.write(
                    f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(frame)}\r\n\r\n".encode()
                    + frame
                    + b"\r\n"
                )
                await asyncio.sleep(0.5)
        return response

    # ------------------------------------------------------------ push

    async def _login(self, request: web.Request) -> web.Response:
        data = await self._body(request)
        if not data.get("passive"):
            return _error(400, "Neither user and pass attributes nor passive flag present")
        user = self._user_for(request)
        if user is None:
            return _error(403, FORBIDDEN)
        session = secrets.token_hex(16)
        self._sessions[session] = user
        return _json({"name": user, "session": session, "active": True, "admin": True})

    def _current(self) -> dict[str, Any]:
        snap = self.job.tick()
        payload = self._job_payload(snap)
        now = time.time()
        payload.update(
            {
                "state": {
                    "text": self._state_text(snap),
                    "flags": self._flags(snap),
                    "error": snap.error or "",
                },
                "currentZ": None,
                "offsets": {},
                "temps": [{"time": int(now), **self._heaters(snap)}]
                if self.printer_connected
                else [],
                "logs": [],
                "messages": [],
                "busyFiles": [],
                "serverTime": now,
            }
        )
        return payload

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {"connected": {"version": VERSION, "display_version": VERSION, "safe_mode": False}}
        )
        authed = False
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    data = json.loads(msg.data)
                    auth = data.get("auth") if isinstance(data, dict) else None
                    if isinstance(auth, str) and not authed:
                        name, _, session = auth.partition(":")
                        if self._sessions.get(session) == name:
                            authed = True
                            await ws.send_json({"history": self._current()})
                            self._sockets.add(ws)
                            self.push_client_authed.set()
                        else:
                            await ws.send_json({"reauthRequired": {"reason": "stale"}})
        finally:
            self._sockets.discard(ws)
        return ws

    async def drop_push_clients(self) -> None:
        """Close every push socket (as a restarting server or a network blip would)."""
        self.push_client_authed.clear()
        for ws in list(self._sockets):
            self._sockets.discard(ws)
            with contextlib.suppress(Exception):
                await ws.close()

    async def _push_loop(self) -> None:
        """Send ``current`` on every change and at least once a second."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._changed.wait()
            self._changed.clear()
            if not self._sockets:
                continue
            message = {"current": self._current()}
            for ws in list(self._sockets):
                try:
                    await ws.send_json(message)
                except (ConnectionError, RuntimeError):
                    self._sockets.discard(ws)

    # ------------------------------------------------------------ app keys

    async def _appkeys_probe(self, _: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _appkeys_request(self, request: web.Request) -> web.Response:
        if self.appkey_rate_limit:
            now = time.monotonic()
            self._requests = [t for t in self._requests if now - t < 60]
            if len(self._requests) >= 3:
                return web.Response(status=429, text="Too Many Requests")
            self._requests.append(now)
        data = await self._body(request)
        app = data.get("app")
        if not isinstance(app, str) or not app:
            return _error(400, "No app name provided")
        user = data.get("user") if isinstance(data.get("user"), str) else None
        token = secrets.token_urlsafe(16)
        self._pending[token] = {
            "app_id": app,
            "user_id": user,
            "user_token": secrets.token_urlsafe(16),
            "polls": 0,
        }
        base = f"http://{self.options.host}:{self.port}"
        dialog = f"{base}/plugin/appkeys/auth/{token}" + (f"?user={user}" if user else "")
        return web.json_response(
            {"app_token": token, "auth_dialog": dialog},
            status=201,
            headers={"Location": f"{base}/plugin/appkeys/request/{token}"},
        )

    async def _appkeys_poll(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token in self._granted:
            return _json({"api_key": self._granted.pop(token)})
        pending = self._pending.get(token)
        if pending is None:
            return web.Response(status=404)
        pending["polls"] += 1
        if self.appkey_auto_approve is not None and pending["polls"] > self.appkey_auto_approve:
            self.decide(pending["user_token"], approve=True)
            return _json({"api_key": self._granted.pop(token)})
        return _json({"message": "Awaiting decision"}, 202)

    def decide(self, user_token: str, *, approve: bool) -> bool:
        """Approve or deny a pending app-key request (what the UI dialog does)."""
        for token, pending in list(self._pending.items()):
            if pending["user_token"] == user_token:
                del self._pending[token]
                if approve:
                    key = secrets.token_hex(16).upper()
                    self.app_keys[key] = str(pending["app_id"])
                    self._granted[token] = key
                return True
        return False

    def approve_all(self) -> None:
        """Approve every pending app-key request."""
        for pending in list(self._pending.values()):
            self.decide(pending["user_token"], approve=True)

    async def _appkeys_decision(self, request: web.Request) -> web.Response:
        if self._user_for(request) is None:
            return _error(403, FORBIDDEN)
        data = await self._body(request)
        if not self.decide(request.match_info["token"], approve=bool(data.get("decision"))):
            return web.Response(status=404)
        return web.Response(status=204)

    async def _appkeys_list(self, _: web.Request) -> web.Response:
        pending = {
            p["user_token"]: {
                "app_id": p["app_id"],
                "remote_address": "127.0.0.1",
                "user_id": p["user_id"] or self.admin,
                "user_token": p["user_token"],
            }
            for p in self._pending.values()
        }
        keys = [
            {"api_key": k, "app_id": a, "user_id": self.admin} for k, a in self.app_keys.items()
        ]
        return _json({"keys": keys, "pending": pending})


def _num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
