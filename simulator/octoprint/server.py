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
import json
import secrets
import time
from typing import Any, ClassVar
import uuid

from aiohttp import BodyPartReader, WSMsgType, web

from .. import traffic
from ..base import SimOptions, SimulatedPrinter
from ..camera import FrameSource, stream_mjpeg
from ..faults import Fault, hostile_message
from ..job import Phase, PrintJob
from .appkeys import AppKeys
from .payloads import (
    FORBIDDEN,
    MAXTEMP,
    VERSION,
    _error,
    _json,
)
from .printer import PrinterRoutes

__all__ = ["DEMO_FILES", "MAXTEMP", "OctoPrintSimulator"]

#: Files every simulated OctoPrint holds besides its job's.
DEMO_FILES = ("calibration_cube.gcode", "phone_stand.gcode")


class OctoPrintSimulator(PrinterRoutes, AppKeys, SimulatedPrinter):
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
        #: Local files (name -> upload time), the job's file and a few sliced parts.
        self.stored: dict[str, int] = dict.fromkeys(DEMO_FILES, 1795238616)
        if job.file:
            self.stored[job.file] = 1795238616
        self.folders: set[str] = set()
        self.sizes: dict[str, int] = {}  # uploaded files' sizes (demo files: 9330 bytes)
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
        #: Answers the next poll gets instead of the real ones (fault injection).
        self._hostile_answers: dict[str, str] = {}
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
                web.get("/api/files/{origin}", self._files),
                web.post("/api/files/local", self._upload),
                web.get("/api/files/{origin}/{path:.+}", self._file),
                web.post("/api/files/{origin}/{path:.+}", self._file_command),
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
        if (hostile := self._hostile_answers.pop(path, None)) is not None:
            return web.Response(text=hostile, content_type="application/json")
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

    # ---------------------------------------------------------------- REST

    async def _version(self, _: web.Request) -> web.Response:
        return _json({"api": "0.1", "server": VERSION, "text": f"OctoPrint {VERSION}"})

    async def _server(self, _: web.Request) -> web.Response:
        return _json({"safemode": None, "version": VERSION})

    async def _settings(self, _: web.Request) -> web.Response:
        return _json(self._settings_body())

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

    async def _files(self, request: web.Request) -> web.Response:
        origin = request.match_info.get("origin", "local")
        if origin not in ("local", "sdcard"):
            return _error(404, "Unknown origin")
        recursive = request.query.get("recursive", "false").lower() in ("true", "yes", "1")
        files = self._file_tree(recursive) if origin == "local" else []
        return _json({"files": files, "free": 81563660288, "total": 270553174016})

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if request.match_info["origin"] != "local" or path not in self.stored:
            return _error(404, "File not found")
        return _json(self._file_entry(path))

    async def _file_command(self, request: web.Request) -> web.Response:
        """``select`` (with ``print``) as OctoPrint 1.11 answers it; other commands 400."""
        path = request.match_info["path"]
        data = await self._body(request)
        if data.get("command") != "select":
            return _error(400, "command must be one of select")
        if request.match_info["origin"] != "local" or path not in self.stored:
            return _error(404, "The requested URL was not found on the server.")
        phase = self.job.tick().phase
        if phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED):
            return _error(409, "Printer is already printing, cannot select a new file")
        start = data.get("print") in (True, "true", "yes", "y", "1", 1)
        if start and not self.printer_connected:
            return _error(409, "Printer is not operational, cannot directly start printing")
        if start:
            self.job.start(path)
        else:
            self.job.file = path
            self._changed.set()
        return web.Response(status=204)

    async def _upload(self, request: web.Request) -> web.Response:
        if request.content_type == "application/x-www-form-urlencoded":
            # a folder is made with form fields alone (no file part)
            form = await request.post()
            return self._upload_fields(None, {k: str(v).strip() for k, v in form.items()})
        if not request.content_type.startswith("multipart/"):
            return _error(400, "No file included")
        reader = await request.multipart()
        name: str | None = None
        size = 0
        fields: dict[str, str] = {}
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file" and part.filename:
                name = part.filename
                size = len(await part.read())
            elif part.name:
                fields[part.name] = (await part.text()).strip()
        return self._upload_fields(name, fields, size)

    def _upload_fields(
        self, name: str | None, fields: dict[str, str], size: int = 0
    ) -> web.Response:
        """Store an uploaded file (select, print), or make the folder ``foldername``."""
        folder = fields.get("path", "").strip("/")
        if name is None and fields.get("foldername"):
            created = "/".join(p for p in (folder, fields["foldername"]) if p)
            self.folders.add(created)
            return _json(
                {
                    "done": True,
                    "folder": {
                        "name": created.rsplit("/", 1)[-1],
                        "origin": "local",
                        "path": created,
                    },
                },
                201,
            )
        if name is None:
            return _error(400, "No file included")
        if folder:
            if folder not in self.folders:
                return _error(404, "Folder does not exist")
            name = f"{folder}/{name}"
        select = fields.get("select", "").lower() == "true"
        start = fields.get("print", "").lower() == "true"
        phase = self.job.tick().phase
        if start and (
            not self.printer_connected or phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED)
        ):
            return _error(409, "Printer is not operational or currently printing")
        self.stored[name] = int(time.time())
        self.sizes[name] = size
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
        return await stream_mjpeg(request, self.camera, interval=0.5)

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
                            traffic.sent(self.kind)
                            await ws.send_json({"history": self._current()})
                            self._sockets.add(ws)
                            self.push_client_authed.set()
                        else:
                            await ws.send_json({"reauthRequired": {"reason": "stale"}})
        finally:
            self._sockets.discard(ws)
        return ws

    async def inject(self, fault: Fault) -> None:
        """A bad push message to every client, and the same as the next poll's answers."""
        good = {"current": self._current()}
        path = ("current", "temps", 0, "tool0", "actual")
        text = hostile_message(fault, good, path) if self.printer_connected else "garbage"
        self._hostile_answers = {"/api/job": text, "/api/printer": text}
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(text)

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
                traffic.sent(self.kind)
                try:
                    await ws.send_json(message)
                except (ConnectionError, RuntimeError):
                    self._sockets.discard(ws)
