"""The add-on's HTTP side: the printfarm integration's API and the ingress UI.

Two listeners share the same handlers:

* the **API** (port 8100): every ``/api/v1`` call needs ``Authorization: Bearer
  <api key>``; Home Assistant's printfarm integration uses it (found by
  Supervisor discovery, or given by hand);
* the **UI** (ingress port 8099): the page and the same calls without a key,
  because Home Assistant's ingress proxy has already checked the user; in
  add-on mode only the proxy's address (172.30.32.2) may connect at all.

``/health`` answers on both, without a key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import hmac
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from aiohttp import WSMsgType, web
from aiohttp.typedefs import Middleware

from .capture import to_jpeg
from .evidence import draw

if TYPE_CHECKING:
    from .service import Service
    from .watcher import Watcher

LOGGER = logging.getLogger(__name__)
UI_FILE = Path(__file__).parent / "ui.html"
MAX_BODY = 16 * 1024
STREAM_QUEUE = 64
#: The stream sends {"type": "keepalive"} when it had nothing else to send for this long,
#: so the integration can tell a quiet add-on from a dead connection (aiohttp's own
#: heartbeat is not used: aiohttp 3.14 can leave its timer behind after a close).
KEEPALIVE_S = 20.0

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, default=str))


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


class Api:
    """Handlers over the running service."""

    def __init__(self, service: Service) -> None:
        """Bind to the service."""
        self.service = service
        self._streams: set[asyncio.Queue[dict[str, Any] | None]] = set()

    # --------------------------------------------------------- middlewares

    def key_required(self) -> Middleware:
        """Bearer API key on ``/api/``; constant-time comparison."""

        @web.middleware
        async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path.startswith("/api/"):
                given = request.headers.get("Authorization", "")
                expected = f"Bearer {self.service.api_key}"
                if not hmac.compare_digest(given.encode(), expected.encode()):
                    return _error(401, "a valid API key is required")
            return await handler(request)

        return cast(Middleware, check)

    def only_from(self, peer: str | None) -> Middleware:
        """Refuse every client but ``peer`` (the ingress proxy) when one is set."""

        @web.middleware
        async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
            if peer is not None and request.remote != peer:
                return _error(403, "only Home Assistant's ingress may open this page")
            return await handler(request)

        return cast(Middleware, check)

    def app(self, *, ui: bool, peer: str | None = None) -> web.Application:
        """The UI app (ingress) or the API app (key)."""
        middlewares: list[Middleware] = [self.only_from(peer)] if ui else [self.key_required()]
        app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY)
        routes = [
            web.get("/health", self.health),
            web.get("/api/v1/info", self.info),
            web.get("/api/v1/printers", self.printers),
            web.post("/api/v1/printers/{key}/settings", self.settings),
            web.post("/api/v1/printers/{key}/feedback", self.feedback),
            web.get("/api/v1/printers/{key}/detection.jpg", self.detection_image),
            web.get("/api/v1/printers/{key}/frame.jpg", self.frame_image),
            web.get("/api/v1/printers/{key}/series", self.series),
            web.get("/api/v1/detections", self.detections),
            web.get("/api/v1/detections/{id}/image.jpg", self.stored_image),
            web.get("/api/v1/stream", self.stream),
        ]
        if ui:
            routes.append(web.get("/", self.page))
            routes.append(web.get("/api/v1/connection", self.connection))
        app.add_routes(routes)
        return app

    # ------------------------------------------------------------- helpers

    def _watcher(self, request: web.Request) -> Watcher:
        watcher = self.service.watchers.get(request.match_info["key"])
        if watcher is None:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "no such printer"}), content_type="application/json"
            )
        return watcher

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError) as err:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "the body must be a JSON object"}),
                content_type="application/json",
            ) from err
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "the body must be a JSON object"}),
                content_type="application/json",
            )
        return body

    def broadcast(self, watcher: Watcher) -> None:
        """Push a printer's new view to every stream client."""
        message = {"type": "printer", "printer": watcher.view()}
        for queue in list(self._streams):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A client that does not read is dropped rather than buffered without end.
                self._streams.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

    def close_streams(self) -> None:
        """Tell every stream client to go."""
        for queue in list(self._streams):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        self._streams.clear()

    # ------------------------------------------------------------ handlers

    async def health(self, request: web.Request) -> web.Response:
        """Liveness and what works."""
        return _json(self.service.health())

    async def connection(self, request: web.Request) -> web.Response:
        """The API port and key, for adding the integration by hand (UI listener only)."""
        return _json(self.service.connection())

    async def info(self, request: web.Request) -> web.Response:
        """Identity and version."""
        return _json(self.service.info())

    async def printers(self, request: web.Request) -> web.Response:
        """Every watched printer."""
        return _json({"printers": [w.view() for w in self.service.watchers.values()]})

    async def settings(self, request: web.Request) -> web.Response:
        """Enable/disable detection or set the sensitivity of one printer."""
        watcher = self._watcher(request)
        body = await self._body(request)
        enabled = body.get("enabled")
        sensitivity = body.get("sensitivity")
        if enabled is not None and not isinstance(enabled, bool):
            return _error(400, "enabled must be true or false")
        if sensitivity is not None and (
            not isinstance(sensitivity, int | float)
            or isinstance(sensitivity, bool)
            or not 0.5 <= sensitivity <= 2.0
        ):
            return _error(400, "sensitivity must be a number from 0.5 to 2")
        await self.service.configure(
            watcher,
            enabled=enabled,
            sensitivity=None if sensitivity is None else float(sensitivity),
        )
        return _json(watcher.view())

    async def feedback(self, request: web.Request) -> web.Response:
        """Mark a detection as a false alarm or confirm it."""
        watcher = self._watcher(request)
        body = await self._body(request)
        verdict = body.get("verdict")
        detection = body.get("detection_id")
        if verdict not in ("false_alarm", "confirmed"):
            return _error(400, "verdict must be false_alarm or confirmed")
        if detection is not None and (
            not isinstance(detection, int) or isinstance(detection, bool)
        ):
            return _error(400, "detection_id must be a number")
        if not await watcher.feedback(verdict, detection):
            return _error(404, "no such detection for this printer")
        return _json(watcher.view())

    async def detection_image(self, request: web.Request) -> web.Response:
        """The printer's latest detection with its evidence drawn."""
        watcher = self._watcher(request)
        history = self.service.history
        latest = await asyncio.to_thread(history.detections, watcher.spec.key, 1)
        image = await asyncio.to_thread(history.blob, latest[0].id, "image") if latest else None
        if image is None:
            return _error(404, "no detection yet")
        return web.Response(body=image, content_type="image/jpeg")

    async def stored_image(self, request: web.Request) -> web.Response:
        """A stored detection's evidence image."""
        try:
            detection_id = int(request.match_info["id"])
        except ValueError:
            return _error(404, "no such detection")
        image = await asyncio.to_thread(self.service.history.blob, detection_id, "image")
        if image is None:
            return _error(404, "no such detection")
        return web.Response(body=image, content_type="image/jpeg")

    async def frame_image(self, request: web.Request) -> web.Response:
        """The printer's last analysed frame with the evidence overlay."""
        watcher = self._watcher(request)
        seen = watcher.last
        if seen is None:
            return _error(404, "no frame yet")
        drawn = await asyncio.to_thread(
            draw,
            seen.image,
            seen.analysis.evidence,
            level=seen.verdict.level.value,
            score=seen.verdict.smoothed,
        )
        body = await asyncio.to_thread(to_jpeg, drawn, max_width=960)
        return web.Response(
            body=body, content_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )

    async def series(self, request: web.Request) -> web.Response:
        """The current (or a given) print's scores, for the plot."""
        watcher = self._watcher(request)
        print_id = request.query.get("print_id") or watcher.print_id
        points = await asyncio.to_thread(self.service.history.series, print_id) if print_id else []
        return _json({"print_id": print_id, "points": points})

    async def detections(self, request: web.Request) -> web.Response:
        """Recent detections, newest first (``printer`` and ``limit`` optional)."""
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            return _error(400, "limit must be a number")
        records = await asyncio.to_thread(
            self.service.history.detections, request.query.get("printer"), limit
        )
        return _json({"detections": [r.as_dict() for r in records]})

    async def stream(self, request: web.Request) -> web.WebSocketResponse:
        """A WebSocket: every printer once, then each change as it happens."""
        ws = web.WebSocketResponse(max_msg_size=MAX_BODY)
        await ws.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(STREAM_QUEUE)
        self._streams.add(queue)
        await ws.send_json(
            {"type": "printers", "printers": [w.view() for w in self.service.watchers.values()]}
        )

        async def drain() -> None:
            async for message in ws:
                if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
            await queue.put(None)

        reader = asyncio.create_task(drain())
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    item = {"type": "keepalive"}
                if item is None:
                    break
                await ws.send_str(json.dumps(item, default=str))
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            self._streams.discard(queue)
            reader.cancel()
            await ws.close()
        return ws

    async def page(self, request: web.Request) -> web.Response:
        """The ingress UI (one HTML page; relative URLs work behind the ingress path)."""
        html = await asyncio.to_thread(UI_FILE.read_text, encoding="utf-8")
        return web.Response(text=html, content_type="text/html")
