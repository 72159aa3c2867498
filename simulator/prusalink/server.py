"""A PrusaLink v1 server on loopback, in the Buddy or the Prusa-Link (Pi) flavour.

Options (``SimOptions.extra``):

* ``variant``: ``"buddy"`` (default) or ``"pi"``;
* ``username`` / ``password``: the digest account (Buddy user is ``maker``;
  the password is random unless given); ``api_key``: also accept this key;
* ``nonce_lifetime_s`` (default 300) and ``nonce_max_uses`` (default none):
  when a nonce goes stale;
* ``legacy_version``: ``/api/version`` without ``firmware``/``printer``;
* ``no_v1``: firmware without the v1 API (every ``/api/v1/*`` is 404);
* ``camera``: Pi only, default true: serve ``/api/v1/cameras`` snapshots;
* ``command_delay_s``: Prusa-Link queues pause/resume/stop and answers 204
  before the printer acts (default 0.1 s on Pi, 0 on Buddy).

Prusa-Link (``pi``) also answers OctoPrint's legacy control routes
``POST /api/printer/tool`` / ``bed`` / ``printhead`` (targets, feed rate).

Tests steer it with :meth:`PrusaLinkSimulator.override` (raw answers: bad
JSON, oversized bodies, 5xx, a held request), :meth:`attention`,
:meth:`replace_job` and ``digest.force_stale``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import hmac
import json
import secrets
from typing import Any, ClassVar

from aiohttp import web

from .. import traffic
from ..base import SimOptions, SimulatedPrinter
from ..camera import FrameSource
from ..faults import Fault, hostile_message
from ..job import ACTIVE, JobError, Phase, PrintJob
from . import payloads
from .controls import LegacyControls
from .digest import BuddyDigest, DigestServer, PiDigest

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Override:
    """A canned answer for one path (tests: malformed or hostile servers)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    hold: asyncio.Event | None = None  # answer only once this is set (timeouts)
    served: asyncio.Event = field(default_factory=asyncio.Event)  # set on every hit


class PrusaLinkSimulator(LegacyControls, SimulatedPrinter):
    """A simulated Prusa printer speaking PrusaLink v1 over HTTP."""

    kind: ClassVar[str] = "prusalink"

    def __init__(self, job: PrintJob, camera: FrameSource, options: SimOptions) -> None:
        """Set up identity, credentials and digest flavour; ``start()`` opens the port."""
        super().__init__(job, camera, options)
        extra = options.extra
        self.variant = str(extra.get("variant", "buddy"))
        if self.variant not in ("buddy", "pi"):
            raise ValueError(f"unknown PrusaLink variant {self.variant!r}")
        buddy = self.variant == "buddy"
        index = options.index
        self.username = str(extra.get("username") or ("maker" if buddy else "printfarm"))
        self.password = str(extra.get("password") or secrets.token_hex(8))
        self.api_key: str | None = extra.get("api_key")
        digest_class: type[DigestServer] = BuddyDigest if buddy else PiDigest
        self.digest = digest_class(
            self.username,
            self.password,
            nonce_lifetime_s=float(extra.get("nonce_lifetime_s", 300.0)),
            nonce_max_uses=(
                None if extra.get("nonce_max_uses") is None else int(extra["nonce_max_uses"])
            ),
        )
        model = options.model or ("XL" if buddy else "MK3S")
        self.identity = payloads.Identity(
            variant=self.variant,
            hostname=f"prusa-{model.lower()}-{index}",
            name=options.name or f"Prusa {model} {index}",
            serial=f"SIM{'B' if buddy else 'P'}{index:04d}X{secrets.token_hex(3).upper()}",
            model=model,
            legacy_version=bool(extra.get("legacy_version", False)),
            camera_id=None if buddy or not extra.get("camera", True) else "simcam0",
        )
        self.no_v1 = bool(extra.get("no_v1", False))
        self.command_delay_s = float(extra.get("command_delay_s", 0.0 if buddy else 0.1))
        self._pending: set[asyncio.TimerHandle] = set()
        self.thumbnail_png = payloads.tiny_png()
        self.job_id = 1 if job.phase is not Phase.IDLE else 0
        #: Print files on the storage (long names; Buddy lists them by 8.3 name as well).
        self.stored: list[str] = [*payloads.DEMO_FILES, *([job.file] if job.file else [])]
        self._attention: str | None = None
        self._last_phase = job.phase
        job.add_listener(self._on_job_change)
        self.overrides: dict[str, Override] = {}
        self._hostile: str | None = None
        # what tests look at
        self.challenges = 0
        self.stale_answers = 0
        self.user_agents: set[str] = set()
        self.commands: list[tuple[str, str, int]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> dict[str, Any]:
        """Serve on ``options.host``/``options.port``; return the JSON line."""
        app = web.Application(middlewares=[self._auth_middleware])
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        line: dict[str, Any] = {
            "kind": self.kind,
            "name": self.identity.name,
            "host": self.options.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "model": self.identity.model,
            "extra": {"variant": self.variant},
        }
        if self.api_key:
            line["api_key"] = self.api_key
        return line

    async def stop(self) -> None:
        """Close the port and drop queued commands; idempotent."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        for override in self.overrides.values():
            if override.hold is not None:
                override.hold.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ------------------------------------------------------------ test hooks

    def override(self, path: str, answer: Override | None) -> None:
        """Answer ``path`` with a canned reply (after auth); None restores it."""
        if answer is None:
            self.overrides.pop(path, None)
        else:
            self.overrides[path] = answer

    async def inject(self, fault: Fault) -> None:
        """The next ``/api/v1/status`` answer is the bad one."""
        good = payloads.status(self.identity, self.job.tick(), self.job_id, self._attention)
        self._hostile = hostile_message(fault, good, ("printer", "temp_nozzle"))

    def attention(self, message: str = "Filament runout") -> None:
        """Pause the job and wait for a human (``printer.state`` ATTENTION)."""
        with contextlib.suppress(JobError):
            self.job.pause()
        self._attention = message

    def replace_job(self, file: str = "replacement.gcode") -> int:
        """Cancel the job behind the client's back and start another; its new id."""
        with contextlib.suppress(JobError):
            self.job.cancel()
        self.job.start(file)
        return self.job_id

    def _on_job_change(self) -> None:
        phase = self.job.phase
        if phase is Phase.HEATING and self._last_phase not in ACTIVE:
            self.job_id += 1
        if phase is not Phase.PAUSED:
            self._attention = None
        self._last_phase = phase

    # ------------------------------------------------------------ auth

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        user_agent = request.headers.get("User-Agent", "")
        key = request.headers.get("X-Api-Key")
        if key is not None:
            if not (self.api_key and hmac.compare_digest(key, self.api_key)):
                if self.variant == "pi":
                    return web.Response(status=403, text="Bad X-Api-Key.")
                return self._challenge(request, stale=False)
        else:
            verdict = self.digest.verify(
                request.method, request.raw_path, request.headers.get("Authorization"), user_agent
            )
            if not verdict.ok:
                return self._challenge(request, stale=verdict.stale)
            self.user_agents.add(user_agent)
        override = self.overrides.get(request.path)
        if override is not None:
            override.served.set()
            if override.hold is not None:
                await override.hold.wait()
            return web.Response(
                status=override.status, body=override.body, content_type=override.content_type
            )
        return await handler(request)

    def _challenge(self, request: web.Request, *, stale: bool) -> web.Response:
        self.challenges += 1
        self.stale_answers += stale
        header = self.digest.challenge(request.headers.get("User-Agent", ""), stale=stale)
        if self.variant == "pi":
            response = web.Response(
                status=401,
                text="<html><body><h1>401 - Unauthorized</h1></body></html>",
                content_type="text/html",
                headers={"WWW-Authenticate": header, "Server": "PrusaLink"},
            )
        else:
            response = web.Response(
                status=401, text="401: Unauthorized", headers={"WWW-Authenticate": header}
            )
            if request.method != "GET":  # Buddy closes the connection after a 401 with a body
                response.force_close()
        return response

    # ------------------------------------------------------------ routes

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/v1/info", self._v1(self._info))
        app.router.add_get("/api/v1/status", self._v1(self._status))
        app.router.add_get("/api/v1/job", self._v1(self._job))
        # The OctoPrint-style route both variants kept; HA core's prusalink reads its material.
        app.router.add_get("/api/printer", self._legacy_printer)
        app.router.add_put("/api/v1/job/{id}/{command}", self._v1(self._command))
        app.router.add_delete("/api/v1/job/{id}", self._v1(self._stop))
        app.router.add_get("/api/v1/storage", self._v1(self._storages))
        app.router.add_get("/api/v1/files/{storage}", self._v1(self._folder))
        app.router.add_get("/api/v1/files/{storage}/", self._v1(self._folder))
        app.router.add_post("/api/v1/files/{storage}/{name}", self._v1(self._start_file))
        app.router.add_get("/api/v1/cameras", self._v1(self._cameras))
        app.router.add_get("/api/v1/cameras/snap", self._v1(self._snap))
        app.router.add_get("/api/v1/cameras/{camera}/snap", self._v1(self._snap))
        if self.variant == "pi":  # Prusa-Link kept OctoPrint's control routes; Buddy did not
            app.router.add_post("/api/printer/tool", self._tool)
            app.router.add_post("/api/printer/bed", self._bed)
            app.router.add_post("/api/printer/printhead", self._printhead)
        app.router.add_get("/thumb/{size}/usb/{name}", self._buddy_thumb)
        app.router.add_get("/api/thumbnails/{path:.+}", self._pi_thumb)

    def _v1(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if self.no_v1:
                return self._error(request, 404, "Not Found", "Not Found")
            return await handler(request)

        return wrapped

    @staticmethod
    def _json(data: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(status=status, text=json.dumps(data), content_type="application/json")

    async def _version(self, request: web.Request) -> web.Response:
        return self._json(payloads.version(self.identity))

    async def _info(self, request: web.Request) -> web.Response:
        return self._json(payloads.info(self.identity))

    async def _legacy_printer(self, request: web.Request) -> web.Response:
        return self._json(payloads.legacy_printer())

    async def _status(self, request: web.Request) -> web.Response:
        traffic.sent(self.kind)
        hostile, self._hostile = self._hostile, None
        if hostile is not None:
            return web.Response(text=hostile, content_type="application/json")
        snap = self.job.tick()
        return self._json(payloads.status(self.identity, snap, self.job_id, self._attention))

    async def _job(self, request: web.Request) -> web.Response:
        traffic.sent(self.kind)
        snap = self.job.tick()
        if not payloads.has_job(snap):
            return web.Response(status=204)
        size = 754535 + 1000 * self.job_id
        return self._json(payloads.job(self.identity, snap, self.job_id, self._attention, size))

    async def _storages(self, request: web.Request) -> web.Response:
        return self._json(payloads.storage_list(self.identity))

    def _storage_ok(self, request: web.Request) -> bool:
        return "/" + request.match_info["storage"] == payloads.storage_path(self.identity)

    async def _folder(self, request: web.Request) -> web.Response:
        if not self._storage_ok(request):
            return self._error(request, 404, "Not Found", "Not Found")
        return self._json(payloads.folder(self.identity, self.stored))

    async def _start_file(self, request: web.Request) -> web.Response:
        """``POST /api/v1/files/<storage>/<name>``: start the file unless a job runs."""
        name = request.match_info["name"]
        file = next(
            (f for f in self.stored if payloads.listed_name(self.identity, f) == name), None
        )
        if not self._storage_ok(request) or file is None:
            return self._answer(request, 404, "Not Found", "File not found.")
        if self.job.tick().phase in ACTIVE:
            return self._answer(request, 409, "Conflict", "Printer is busy.")
        self._apply(lambda: self.job.start(file))
        return self._answer(request, 204)

    def _job_matches(self, request: web.Request) -> bool:
        snap = self.job.tick()
        return payloads.has_job(snap) and request.match_info["id"] == str(self.job_id)

    async def _command(self, request: web.Request) -> web.Response:
        command = request.match_info["command"]
        actions: dict[str, Callable[[], None]] = {
            "pause": self.job.pause,
            "resume": self.job.resume,
            "continue": lambda: None,
        }
        if command not in actions:
            return self._answer(request, 400, "Bad Request", "Unknown command.")
        if not self._job_matches(request):
            return self._answer(
                request, 404, "Not Current Job", "Given job id does not belong to current job"
            )
        phase = self.job.tick().phase
        allowed = {
            "pause": phase in (Phase.HEATING, Phase.PRINTING),
            "resume": phase is Phase.PAUSED and self._attention is None,  # a human acts first
            "continue": True,
        }
        if not allowed[command]:
            return self._answer(request, 409, "Conflict", f"Cannot {command} now.")
        self._apply(actions[command])
        return self._answer(request, 204)

    async def _stop(self, request: web.Request) -> web.Response:
        if not self._job_matches(request):
            return self._answer(
                request, 404, "Not Current Job", "Given job id does not belong to current job"
            )
        phase = self.job.tick().phase
        # Buddy also stops a job that waits for attention; Prusa-Link only PRINTING/PAUSED
        attention_blocks = self._attention is not None and self.variant == "pi"
        if phase not in ACTIVE or attention_blocks:
            return self._answer(request, 409, "Printer Is Not Printing", "Not printing.")
        self._apply(self.job.cancel)
        return self._answer(request, 204)

    def _apply(self, action: Callable[[], None]) -> None:
        """Run a command now, or (Prusa-Link queues commands) after ``command_delay_s``."""
        if self.command_delay_s <= 0:
            with contextlib.suppress(JobError):
                action()
            return

        def run() -> None:
            self._pending.discard(handle)
            with contextlib.suppress(JobError):
                action()

        handle = asyncio.get_running_loop().call_later(self.command_delay_s, run)
        self._pending.add(handle)

    def _answer(
        self, request: web.Request, status: int, title: str = "", text: str = ""
    ) -> web.Response:
        self.commands.append((request.method, request.path, status))
        if status == 204:
            return web.Response(status=204)
        return self._error(request, status, title, text)

    def _error(self, request: web.Request, status: int, title: str, text: str) -> web.Response:
        """Buddy answers ``<code>: <reason>`` as text; Prusa-Link a JSON error object."""
        if self.variant == "pi":
            url = f"http://{request.host}/error/{title.lower().replace(' ', '-')}"
            body = {"title": title, "message": text, "url": url}
            return web.Response(
                status=status, text=json.dumps(body), content_type="application/json"
            )
        reason = web.Response(status=status).reason
        return web.Response(status=status, text=f"{status}: {reason}")

    async def _cameras(self, request: web.Request) -> web.Response:
        if self.identity.camera_id is None:
            return self._error(request, 404, "Not Found", "Not Found")
        camera = {
            "camera_id": self.identity.camera_id,
            "config": {"name": "Pi camera", "driver": "V4L2", "resolution": "1280x720"},
            "connected": True,
            "detected": True,
            "stored": True,
        }
        return self._json({"camera_list": [camera]})

    async def _snap(self, request: web.Request) -> web.Response:
        wanted = request.match_info.get("camera", self.identity.camera_id)
        if self.identity.camera_id is None or wanted != self.identity.camera_id:
            if self.variant == "pi":
                return self._json({"message": "Camera is not available"}, status=404)
            return self._error(request, 404, "Not Found", "Not Found")
        return web.Response(body=self.camera.frame(), content_type="image/jpeg")

    def _current_file(self) -> str | None:
        snap = self.job.tick()
        return snap.file if payloads.has_job(snap) else None

    async def _buddy_thumb(self, request: web.Request) -> web.Response:
        file = self._current_file()
        if self.variant != "buddy" or file is None:
            return self._error(request, 404, "Not Found", "Not Found")
        if request.match_info["name"] != payloads.short_name(file):
            return self._error(request, 404, "Not Found", "Not Found")
        return web.Response(body=self.thumbnail_png, content_type="image/png")

    async def _pi_thumb(self, request: web.Request) -> web.Response:
        file = self._current_file()
        if self.variant != "pi" or file is None:
            return self._error(request, 404, "Not Found", "File not found.")
        if "/" + request.match_info["path"] != f"{payloads.pi_path(file)}.orig.png":
            return self._error(request, 404, "Not Found", "File not found.")
        return web.Response(body=self.thumbnail_png, content_type="image/png")
