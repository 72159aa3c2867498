"""Moonraker (Klipper) client: JSON-RPC over ``/websocket`` with push updates.

On connect the client identifies itself, reads ``server.info`` and
``printer.info``, lists Klipper's objects, and subscribes to the ones it
needs; afterwards ``notify_status_update`` pushes only changed fields, which
are merged into one typed object tree. Klippy's own life cycle (ready,
shutdown, disconnected, startup) is followed through ``notify_klippy_*``;
while Klippy is away the heartbeat asks ``server.info`` every second, and the
subscription is renewed every time Klippy comes back. Commands are
acknowledged with ``"ok"`` even when Klipper ignores them, so every command is
confirmed by the state that follows (see ``control``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import contextlib
import logging
from typing import Any

import aiohttp

from ..base import PrinterClient
from ..coerce import as_dict, brief
from ..exceptions import PrinterAuthError, PrinterConnectionError, PrinterProtocolError
from ..http import connect_websocket
from ..models import Capabilities, FanKind, PrinterInfo, PrinterKind, PrinterState
from ..plumbing import cancel_and_wait
from .camera import parse_webcams
from .descriptor import DEFAULT_PORT, DESCRIPTOR
from .objects import ObjectLayout, merge_status, parse_object_list
from .parse import (
    FileMetadata,
    parse_machine_id,
    parse_metadata,
    parse_printer_info,
    parse_server_info,
    state_fields,
)
from .rpc import MoonrakerRpcError, RpcConnection
from .status import KLIPPY_READY

_LOGGER = logging.getLogger(__name__)

CLIENT_NAME = "printfarm"
CLIENT_VERSION = "0.1.0"
#: Klippy states after which Moonraker sends no ``notify_klippy_ready``-style event we can wait on.
KLIPPY_AWAY = frozenset({"disconnected", "startup"})

__all__ = ["DEFAULT_PORT", "KLIPPY_AWAY", "MoonrakerClientBase"]


class MoonrakerClientBase(PrinterClient):
    """A Klipper printer reached through its Moonraker API server: connection and state."""

    kind = PrinterKind.MOONRAKER
    descriptor = DESCRIPTOR

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        api_key: str | None = None,
        session: aiohttp.ClientSession | None = None,
        model: str | None = None,
        request_timeout: float = 10.0,
        poll_interval: float | None = None,
        stale_after: float | None = None,
        klippy_poll_interval: float = 1.0,
    ) -> None:
        """Describe the server; nothing is opened before ``connect()``."""
        super().__init__(
            host,
            session=session,
            request_timeout=request_timeout,
            poll_interval=poll_interval,
            stale_after=stale_after,
        )
        self.port = port
        self._api_key = api_key
        self._model = model
        self.klippy_poll_interval = klippy_poll_interval
        self._replies = self._new_pending()
        self._rpc: RpcConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._objects: dict[str, dict[str, Any]] = {}
        self._layout = ObjectLayout()
        self._klippy_state = "disconnected"
        self._klippy_message: str | None = None
        self._metadata: FileMetadata | None = None
        self._metadata_for: str | None = None
        self._has_history = False  # Moonraker's [history] component is loaded

    @property
    def base_url(self) -> str:
        """``http://host:port/`` of the Moonraker server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def klippy_state(self) -> str:
        """Klippy host state as Moonraker last reported it."""
        return self._klippy_state

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self._api_key} if self._api_key else {}

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"printfarm moonraker {self.host} {name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.debug("Background call to %s failed: %s", self.host, brief(err))

    async def _call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        rpc = self._rpc
        if rpc is None or rpc.closed:
            raise PrinterConnectionError(f"{method}: Moonraker at {self.host} is not connected")
        return await rpc.call(method, params, timeout=self.request_timeout)

    # ----------------------------------------------------------- lifecycle

    async def _open(self) -> None:
        url = self.base_url + "websocket"
        try:
            ws = await connect_websocket(
                await self._session(),
                url,
                headers=self._headers(),
                timeout=self.request_timeout,
                what=f"Moonraker at {self.host}",
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status in (401, 403):
                raise PrinterAuthError(
                    f"Moonraker at {self.host} refused the API key (HTTP {err.status})"
                ) from err
            raise PrinterProtocolError(
                f"{url} is not a Moonraker websocket (HTTP {err.status})"
            ) from err
        self._rpc = RpcConnection(ws, self._on_notification, self._replies)
        self._reader = asyncio.create_task(
            self._rpc.run(), name=f"printfarm moonraker {self.host} reader"
        )
        await self._handshake()

    async def _handshake(self) -> None:
        identify: dict[str, Any] = {
            "client_name": CLIENT_NAME,
            "version": CLIENT_VERSION,
            "type": "other",
            "url": "https://github.com/printfarm/printfarm",
        }
        if self._api_key:
            identify["api_key"] = self._api_key
        try:
            await self._call("server.connection.identify", identify)
        except MoonrakerRpcError as err:  # very old Moonraker; auth errors still raise
            _LOGGER.debug("identify failed on %s: %s", self.host, err)
        server = parse_server_info(await self._call("server.info"))
        self._klippy_state = server.klippy_state
        self._has_history = "history" in server.components
        machine_id = None
        with contextlib.suppress(MoonrakerRpcError):
            machine_id = parse_machine_id(await self._call("machine.system_info"))
        with contextlib.suppress(MoonrakerRpcError):
            self._camera = parse_webcams(await self._call("server.webcams.list"), self.base_url)
        hostname, firmware = await self._load_klippy(server.klippy_connected)
        self._info = PrinterInfo(
            kind=self.kind,
            unique_id=machine_id or f"{self.host}:{self.port}",
            name=hostname or self.host,
            model=self._model or "Klipper",
            firmware=firmware
            or (f"Moonraker {server.moonraker_version}" if server.moonraker_version else None),
            host=self.host,
            configuration_url=self.base_url,
        )

    async def _load_klippy(self, connected: bool = True) -> tuple[str | None, str | None]:
        """Read printer.info, list objects and (re)subscribe; returns hostname, version."""
        hostname = firmware = None
        if connected:
            try:
                info = parse_printer_info(await self._call("printer.info"))
            except MoonrakerRpcError as err:
                _LOGGER.debug("printer.info failed on %s: %s", self.host, err)
            else:
                hostname, firmware = info.hostname, info.software_version
                if info.state:
                    self._klippy_state = info.state
                self._klippy_message = info.state_message
        if connected and self._klippy_state not in KLIPPY_AWAY:
            try:
                self._layout = parse_object_list(await self._call("printer.objects.list"))
                reply = await self._call(
                    "printer.objects.subscribe", {"objects": self._layout.subscription()}
                )
            except MoonrakerRpcError as err:
                _LOGGER.debug("Subscribing on %s failed: %s", self.host, err)
            else:
                self._objects = {}
                merge_status(self._objects, as_dict(reply).get("status"))
        self._capabilities = Capabilities(
            camera=self._camera.kind,
            chamber_temperature=self._layout.chamber is not None,
            light=self._layout.light is not None,
            speed_factor=True,
            gcode=True,
            emergency_stop=True,
            firmware_restart=True,
            controllable_fans=self._fans(),
            thumbnail=True,
            layers=True,
            print_files=True,
            reprint=self._has_history,
        )
        self._apply()
        return hostname, firmware

    def _fans(self) -> tuple[FanKind, ...]:
        """The ``[fan]``, and ``[fan_generic]`` fans named for a role."""
        layout = self._layout
        fans = (
            (FanKind.PART_COOLING, layout.has_fan),
            (FanKind.AUXILIARY, layout.aux_fan is not None),
            (FanKind.CHAMBER, layout.chamber_fan is not None),
        )
        return tuple(fan for fan, present in fans if present)

    async def _listen(self) -> None:
        reader = self._reader
        if reader is None:
            raise PrinterConnectionError("not connected")
        await reader
        raise PrinterConnectionError("Moonraker websocket closed")

    def _probe_interval(self) -> float:
        """Every second while Klippy is away (no event says it is back), else the kind's."""
        if self._klippy_state in KLIPPY_AWAY:
            return min(self.klippy_poll_interval, super()._probe_interval())
        return super()._probe_interval()

    async def _probe(self) -> None:
        """``server.info``: proves the socket is current, and finds Klippy coming back."""
        server = parse_server_info(await self._call("server.info"))
        if self._klippy_state not in KLIPPY_AWAY:
            return
        if server.klippy_connected and server.klippy_state not in KLIPPY_AWAY:
            self._klippy_state = server.klippy_state
            await self._load_klippy()

    async def _teardown(self) -> None:
        await cancel_and_wait(*self._tasks)
        rpc, self._rpc = self._rpc, None
        reader, self._reader = self._reader, None
        if rpc is not None:
            await rpc.close()
        await cancel_and_wait(reader)

    # ------------------------------------------------------- notifications

    def _on_notification(self, method: str, params: list[Any]) -> None:
        if method == "notify_status_update":
            update = as_dict(params[0]) if params else {}
            if not merge_status(self._objects, update):
                _LOGGER.debug("Ignoring malformed notify_status_update")
                return
            webhooks = as_dict(update.get("webhooks"))
            state = webhooks.get("state")
            if isinstance(state, str) and state:
                self._klippy_state = state
                message = webhooks.get("state_message")
                if isinstance(message, str):
                    self._klippy_message = message
            self._apply()
        elif method == "notify_klippy_ready":
            self._klippy_state = KLIPPY_READY
            self._spawn(self._reload_klippy(), "resubscribe")
        elif method == "notify_klippy_shutdown":
            self._klippy_state = "shutdown"
            self._apply()
            self._spawn(self._reload_klippy(), "shutdown info")
        elif method == "notify_klippy_disconnected":
            self._klippy_state = "disconnected"
            self._klippy_message = "Klippy disconnected from Moonraker"
            self._apply()
            self._wake.set()  # the heartbeat now watches for Klippy every second

    async def _reload_klippy(self) -> None:
        await self._load_klippy()

    def _apply(self) -> None:
        fields = state_fields(
            self._objects,
            klippy_state=self._klippy_state,
            klippy_message=self._klippy_message,
            layout=self._layout,
            metadata=self._metadata if self._metadata_for == self._job_file() else None,
        )
        fields["connected"] = True
        fields["thumbnail_id"] = self._thumbnail_id()
        self._update_state(**fields)
        job = self._job_file()
        if job and job != self._metadata_for and self._rpc is not None:
            self._metadata_for = job
            self._metadata = None
            self._spawn(self._load_metadata(job), "metadata")

    def _job_file(self) -> str | None:
        name = self._objects.get("print_stats", {}).get("filename")
        return name if isinstance(name, str) and name else None

    def _thumbnail_id(self) -> str | None:
        meta = self._metadata
        if meta is None or meta.filename != self._job_file():
            return None
        thumb = meta.largest_thumbnail
        return None if thumb is None else f"{thumb.path}@{meta.modified or 0:.0f}"

    async def _load_metadata(self, filename: str) -> None:
        try:
            result = await self._call("server.files.metadata", {"filename": filename})
        except MoonrakerRpcError as err:
            _LOGGER.debug("No metadata for %s: %s", filename, err)
            result = {}
        if self._metadata_for == filename:
            self._metadata = parse_metadata(result, filename)
            self._apply()

    async def refresh(self) -> PrinterState:
        """Query every subscribed object now and return the new state."""
        result = await self._call("printer.objects.query", {"objects": self._layout.subscription()})
        merge_status(self._objects, as_dict(result).get("status"))
        self._apply()
        return self.state
