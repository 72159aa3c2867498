"""Moonraker (Klipper) client: JSON-RPC over ``/websocket`` with push updates.

On connect the client identifies itself, reads ``server.info`` and
``printer.info``, lists Klipper's objects, and subscribes to the ones it
needs; afterwards ``notify_status_update`` pushes only changed fields, which
are merged into one object tree. Klippy's own life cycle (ready, shutdown,
disconnected, startup) is followed through ``notify_klippy_*`` and a
``server.info`` poll while Klippy is away; the subscription is renewed every
time Klippy comes back. Commands are acknowledged with ``"ok"`` even when
Klipper ignores them, so every command is confirmed by the state that follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import contextlib
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from ..base import (
    MAX_IMAGE_BYTES,
    MAX_MESSAGE_BYTES,
    PrinterClient,
    check_temperature,
    fan_pwm,
)
from ..exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterProtocolError,
)
from ..models import (
    Capabilities,
    FanKind,
    PrinterInfo,
    PrinterKind,
    PrinterState,
    PrintStatus,
)
from .camera import parse_webcams, same_origin
from .parse import (
    FileMetadata,
    ObjectLayout,
    as_dict,
    merge_status,
    parse_machine_id,
    parse_metadata,
    parse_object_list,
    parse_printer_info,
    parse_server_info,
    state_fields,
)
from .rpc import MoonrakerRpcError, RpcConnection
from .status import KLIPPY_READY

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 7125
CLIENT_NAME = "printfarm"
CLIENT_VERSION = "0.1.0"
MAX_NOZZLE_C = 350.0
MAX_BED_C = 150.0
#: Klippy states after which Moonraker sends no ``notify_klippy_ready``-style event we can wait on.
_KLIPPY_AWAY = frozenset({"disconnected", "startup"})


class MoonrakerClient(PrinterClient):
    """A Klipper printer reached through its Moonraker API server."""

    kind = PrinterKind.MOONRAKER

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        api_key: str | None = None,
        session: aiohttp.ClientSession | None = None,
        model: str | None = None,
        request_timeout: float = 10.0,
        silence_timeout: float = 30.0,
        klippy_poll_interval: float = 1.0,
    ) -> None:
        """Describe the server; nothing is opened before ``connect()``."""
        super().__init__(host, request_timeout=request_timeout)
        self.port = port
        self._api_key = api_key
        self._session = session
        self._own_session = session is None
        self._model = model
        self.silence_timeout = silence_timeout
        self.klippy_poll_interval = klippy_poll_interval
        self._rpc: RpcConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._objects: dict[str, dict[str, Any]] = {}
        self._layout = ObjectLayout()
        self._klippy_state = "disconnected"
        self._klippy_message: str | None = None
        self._metadata: FileMetadata | None = None
        self._metadata_for: str | None = None
        self._watching_klippy = False

    # ------------------------------------------------------------ plumbing

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

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._own_session:
                raise PrinterConnectionError("the injected HTTP session is closed")
            self._session = aiohttp.ClientSession()
        return self._session

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"printfarm moonraker {self.host} {name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.debug("Background call to %s failed: %s", self.host, err)

    async def _call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        rpc = self._rpc
        if rpc is None or rpc.closed:
            raise PrinterConnectionError(f"{method}: Moonraker at {self.host} is not connected")
        return await rpc.call(method, params, timeout=self.request_timeout)

    # ----------------------------------------------------------- lifecycle

    async def _open(self) -> None:
        session = self._http()
        try:
            async with asyncio.timeout(self.request_timeout):
                ws = await session.ws_connect(
                    self.base_url + "websocket",
                    headers=self._headers(),
                    max_msg_size=MAX_MESSAGE_BYTES,
                )
        except aiohttp.WSServerHandshakeError as err:
            if err.status in (401, 403):
                raise PrinterAuthError(
                    f"Moonraker at {self.host} refused the API key (HTTP {err.status})"
                ) from err
            raise PrinterProtocolError(
                f"{self.base_url}websocket is not a Moonraker websocket (HTTP {err.status})"
            ) from err
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise PrinterConnectionError(
                f"cannot reach Moonraker at {self.base_url}: {err}"
            ) from err
        self._rpc = RpcConnection(ws, self._on_notification, silence_timeout=self.silence_timeout)
        self._reader = asyncio.create_task(
            self._rpc.run(), name=f"printfarm moonraker {self.host} reader"
        )
        try:
            await self._handshake()
        except BaseException:
            await self._teardown()
            raise

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
        if self._klippy_state in _KLIPPY_AWAY:
            self._watch_klippy()

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
        if connected and self._klippy_state not in _KLIPPY_AWAY:
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
        )
        self._apply()
        return hostname, firmware

    async def _listen(self) -> None:
        reader = self._reader
        if reader is None:
            raise PrinterConnectionError("not connected")
        self.backoff.reset()
        await reader
        raise PrinterConnectionError("Moonraker websocket closed")

    async def _teardown(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._watching_klippy = False
        rpc, self._rpc = self._rpc, None
        reader, self._reader = self._reader, None
        if rpc is not None:
            await rpc.close()
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, PrinterError):
                await reader

    async def close(self) -> None:
        """Close the connection, and the HTTP session if this client created it."""
        await super().close()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

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
            self._watch_klippy()

    async def _reload_klippy(self) -> None:
        await self._load_klippy()

    def _watch_klippy(self) -> None:
        if not self._watching_klippy:
            self._watching_klippy = True
            self._spawn(self._poll_klippy(), "klippy watch")

    async def _poll_klippy(self) -> None:
        """While Klippy is away, poll server.info; reload once it is back in any state."""
        try:
            while self._klippy_state in _KLIPPY_AWAY:
                await asyncio.sleep(self.klippy_poll_interval)
                server = parse_server_info(await self._call("server.info"))
                if server.klippy_connected and server.klippy_state not in _KLIPPY_AWAY:
                    self._klippy_state = server.klippy_state
                    await self._load_klippy()
        finally:
            self._watching_klippy = False

    def _apply(self) -> None:
        fields = state_fields(
            self._objects,
            klippy_state=self._klippy_state,
            klippy_message=self._klippy_message,
            layout=self._layout,
            metadata=self._metadata if self._metadata_for == self._job_file() else None,
        )
        fields["thumbnail_id"] = self._thumbnail_id()
        self._update_state(connected=True, **fields)
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

    # ------------------------------------------------------------ commands

    async def refresh(self) -> PrinterState:
        """Query every subscribed object now and return the merged state."""
        reply = await self._call("printer.objects.query", {"objects": self._layout.subscription()})
        merge_status(self._objects, as_dict(reply).get("status"))
        self._apply()
        return self.state

    def _require_control(self, what: str) -> None:
        if not self._state.connected:
            raise PrinterConnectionError(f"{what}: printer {self.host} is offline")
        if not self._state.control_available:
            raise PrinterCommandError(
                f"{what}: Klippy is {self._klippy_state}", reason="control_unavailable"
            )

    async def pause(self) -> None:
        """Pause the print; confirmed by ``print_stats.state == paused``."""
        self._require_active("pause")
        self._require_control("pause")
        await self._call("printer.print.pause")
        await self._confirm(lambda s: s.status is PrintStatus.PAUSED, "pause")

    async def resume(self) -> None:
        """Resume a paused print; confirmed by ``print_stats.state == printing``."""
        self._require_active("resume")
        self._require_control("resume")
        await self._call("printer.print.resume")
        await self._confirm(lambda s: s.status is PrintStatus.PRINTING, "resume")

    async def stop(self) -> None:
        """Cancel the print; confirmed by ``print_stats.state == cancelled``."""
        self._require_active("stop")
        self._require_control("stop")
        await self._call("printer.print.cancel")
        await self._confirm(
            lambda s: s.status in (PrintStatus.CANCELLED, PrintStatus.IDLE, PrintStatus.ERROR),
            "stop",
        )

    async def start_print(self, filename: str) -> None:
        """Start printing a file from the gcodes root; confirmed by ``print_stats``.

        A short job may go from standby to ``complete`` (or ``error``) between
        two pushes, so a finished state for this file that arrives after the
        call also confirms the start.
        """
        self._require_control("start")
        before = self._state
        await self._call("printer.print.start", {"filename": filename})
        ended = (PrintStatus.FINISHED, PrintStatus.ERROR)
        await self._confirm(
            lambda s: s.job == filename
            and (
                s.status in (PrintStatus.PRINTING, PrintStatus.PAUSED)
                or (s is not before and s.status in ended)
            ),
            "start",
        )

    async def _script(self, script: str) -> None:
        try:
            await self._call("printer.gcode.script", {"script": script})
        except MoonrakerRpcError as err:
            raise PrinterCommandError(str(err), reason="rejected") from err

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the extruder target with SET_HEATER_TEMPERATURE."""
        target = check_temperature(celsius, MAX_NOZZLE_C, "nozzle target")
        self._require_control("nozzle target")
        await self._script(f"SET_HEATER_TEMPERATURE HEATER=extruder TARGET={target:g}")
        await self._confirm(
            lambda s: s.nozzle_target is not None and abs(s.nozzle_target - target) < 0.01,
            "nozzle target",
        )

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target with SET_HEATER_TEMPERATURE."""
        target = check_temperature(celsius, MAX_BED_C, "bed target")
        self._require_control("bed target")
        await self._script(f"SET_HEATER_TEMPERATURE HEATER=heater_bed TARGET={target:g}")
        await self._confirm(
            lambda s: s.bed_target is not None and abs(s.bed_target - target) < 0.01,
            "bed target",
        )

    async def set_speed_factor(self, percent: int) -> None:
        """Feed-rate override (M220), in percent."""
        if not isinstance(percent, int) or not 1 <= percent <= 500:
            raise PrinterCommandError(
                f"speed factor {percent!r} is not 1-500 %", reason="invalid_value"
            )
        self._require_control("speed factor")
        await self._script(f"M220 S{percent}")
        await self._confirm(lambda s: s.speed_factor == percent, "speed factor")

    def _fans(self) -> tuple[FanKind, ...]:
        """The ``[fan]``, and ``[fan_generic]`` fans named for a role."""
        layout = self._layout
        fans = (
            (FanKind.PART_COOLING, layout.has_fan),
            (FanKind.AUXILIARY, layout.aux_fan is not None),
            (FanKind.CHAMBER, layout.chamber_fan is not None),
        )
        return tuple(fan for fan, present in fans if present)

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set a fan, confirmed by its reported ``speed``.

        The part-cooling ``[fan]`` takes M106/M107; a ``[fan_generic]`` takes
        ``SET_FAN_SPEED FAN=<name> SPEED=<0-1>``.
        """
        kind = self._check_fan(fan, percent)
        self._require_control("fan speed")
        generic = {
            FanKind.AUXILIARY: self._layout.aux_fan,
            FanKind.CHAMBER: self._layout.chamber_fan,
        }
        obj = generic.get(kind)
        if obj is not None:
            name = obj.partition(" ")[2].strip()
            await self._script(f"SET_FAN_SPEED FAN={name} SPEED={percent / 100:g}")
        else:
            await self._script(f"M106 S{fan_pwm(percent)}" if percent else "M107")
        await self._confirm(
            lambda s: (speed := s.fan_speed(kind)) is not None and abs(speed - percent) <= 1,
            "fan speed",
        )

    async def set_light(self, on: bool) -> None:
        """Switch the configured light (``output_pin`` or LED named like a light)."""
        light = self._layout.light
        if light is None:
            await super().set_light(on)
            return
        self._require_control("light")
        prefix, _, name = light.partition(" ")
        value = 1 if on else 0
        if prefix == "output_pin":
            await self._script(f"SET_PIN PIN={name} VALUE={value}")
        else:
            await self._script(
                f"SET_LED LED={name} RED={value} GREEN={value} BLUE={value} WHITE={value}"
            )
        await self._confirm(lambda s: s.light_on is on, "light")

    async def send_gcode(self, gcode: str) -> None:
        """Run G-code through ``printer.gcode.script``; Klipper errors raise."""
        if not gcode.strip():
            raise PrinterCommandError("empty G-code", reason="invalid_value")
        self._require_control("gcode")
        await self._script(gcode)

    async def emergency_stop(self) -> None:
        """Emergency stop: Klippy shuts down until a firmware restart."""
        if not self._state.connected:
            raise PrinterConnectionError(f"emergency stop: printer {self.host} is offline")
        await self._call("printer.emergency_stop")
        await self._confirm(lambda s: s.native_status == "shutdown", "emergency stop")

    async def firmware_restart(self) -> None:
        """FIRMWARE_RESTART; returns once Klippy is ready again."""
        if not self._state.connected:
            raise PrinterConnectionError(f"firmware restart: printer {self.host} is offline")
        was_ready = self._state.control_available
        with contextlib.suppress(PrinterConnectionError):
            # Moonraker may drop the reply when Klippy goes away mid-call.
            await self._call("printer.firmware_restart")
        if was_ready:
            # From ready, "ready" only confirms once Klippy has been away.
            with contextlib.suppress(TimeoutError):
                await self.wait_for_state(lambda s: not s.control_available, 10.0)
        await self._confirm(
            lambda s: s.control_available and s.native_status not in (None, "shutdown", "error"),
            "firmware restart",
            timeout=60.0,
        )

    # ------------------------------------------------------------- images

    async def _get_image(self, url: str) -> bytes:
        headers = self._headers() if same_origin(url, self.base_url) else {}
        try:
            async with asyncio.timeout(self.request_timeout):
                async with self._http().get(url, headers=headers) as resp:
                    if resp.status in (401, 403):
                        raise PrinterAuthError(f"{url} refused the API key (HTTP {resp.status})")
                    if resp.status != 200:
                        raise PrinterCommandError(
                            f"{url} answered HTTP {resp.status}", reason="unavailable"
                        )
                    if (resp.content_length or 0) > MAX_IMAGE_BYTES:
                        raise PrinterProtocolError(
                            f"{url}: image larger than {MAX_IMAGE_BYTES} bytes"
                        )
                    data = await resp.content.read(MAX_IMAGE_BYTES + 1)
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise PrinterConnectionError(f"{url}: {err}") from err
        if len(data) > MAX_IMAGE_BYTES:
            raise PrinterProtocolError(f"{url}: image larger than {MAX_IMAGE_BYTES} bytes")
        return data

    async def snapshot(self) -> bytes:
        """One JPEG from the webcam's snapshot URL."""
        if self._camera.snapshot_url is None:
            return await super().snapshot()
        return await self._get_image(self._camera.snapshot_url)

    async def thumbnail(self) -> bytes | None:
        """The largest thumbnail of the current job's file, or None."""
        meta = self._metadata
        if meta is None or meta.filename != self._job_file() or meta.largest_thumbnail is None:
            return None
        path = quote(meta.largest_thumbnail.path)
        return await self._get_image(f"{self.base_url}server/files/gcodes/{path}")
