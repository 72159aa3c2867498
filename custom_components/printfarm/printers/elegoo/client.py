"""Elegoo SDCP v3 client: one websocket per printer, shared by everything.

The printer accepts only 4-5 websocket clients and drops one it has not heard
from for about 60 s, so this client opens exactly one socket, sends a status
refresh (Cmd 0) every ``keepalive_interval`` seconds, and treats
``silence_timeout`` seconds without any message as a dead socket. Status,
attributes, commands and the camera switch all go over that socket; replies
are matched to requests by ``RequestID``. Acks only say the printer accepted
a request: every command is confirmed by the status that follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from typing import Any
import uuid

import aiohttp
from yarl import URL

from ..base import (
    MAX_IMAGE_BYTES,
    MAX_MESSAGE_BYTES,
    PrinterClient,
    StatePredicate,
    check_temperature,
)
from ..exceptions import (
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
    PrinterProtocolError,
)
from ..models import (
    ACTIVE_STATUSES,
    CameraInfo,
    CameraKind,
    Capabilities,
    FanKind,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintStatus,
)
from .camera import read_first_jpeg
from .const import (
    DEFAULT_PORT,
    DEFAULT_VIDEO_PORT,
    FROM_LAN_CLIENT,
    KEEPALIVE_INTERVAL_S,
    MAX_BED_C,
    MAX_NOZZLE_C,
    SILENCE_TIMEOUT_S,
    SPEED_PRESETS,
    VIDEO_PATH,
    WEBSOCKET_PATH,
    Cmd,
    ack_reason,
)
from .parse import (
    AttributesReport,
    ErrorReport,
    NoticeReport,
    Report,
    ResponseReport,
    SdcpParseError,
    StatusReport,
    TicksClock,
    as_str,
    parse_message,
    status_changes,
)
from .status import Flavor

_LOGGER = logging.getLogger(__name__)

_STOPPED = frozenset({PrintStatus.CANCELLED, PrintStatus.IDLE, PrintStatus.FINISHED})
_RUNNING = frozenset({PrintStatus.PRINTING, PrintStatus.PREPARING})
#: Handshake answers of a server that is full rather than wrong.
_BUSY_HTTP_STATUSES = frozenset({429, 503})


class _NoFreeSlotError(PrinterConnectionError):
    """The printer turned the websocket away: it already serves its maximum of clients."""


class ElegooClient(PrinterClient):
    """Client of one Elegoo SDCP v3 printer (Centauri Carbon, SDCP v3 resin printers)."""

    kind = PrinterKind.ELEGOO

    def __init__(
        self,
        host: str,
        *,
        port: int = DEFAULT_PORT,
        video_port: int = DEFAULT_VIDEO_PORT,
        mainboard_id: str | None = None,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 10.0,
        keepalive_interval: float = KEEPALIVE_INTERVAL_S,
        silence_timeout: float = SILENCE_TIMEOUT_S,
        confirm_timeout: float | None = None,
        close_timeout: float = 2.0,
    ) -> None:
        """Configure the client; ``connect()`` opens the websocket."""
        super().__init__(host, request_timeout=request_timeout)
        self.port = port
        self.video_port = video_port
        self.keepalive_interval = keepalive_interval
        self.silence_timeout = silence_timeout
        self.confirm_timeout = confirm_timeout
        self.close_timeout = close_timeout
        self._session = session
        self._own_session = session is None
        self._mainboard_id = mainboard_id or ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[ResponseReport]] = {}
        self._push_waiters: dict[str, list[asyncio.Future[None]]] = {
            "status": [],
            "attributes": [],
        }
        self._error_code: int | None = None  # from sdcp/error, kept while the job is failed
        self._send_lock = asyncio.Lock()
        self._camera_lock = asyncio.Lock()
        self._video_held = False  # enable_video(on=True) was called by a stream user
        self._attributes: AttributesReport | None = None
        self._opening_status: StatusReport | None = None
        self._opening = False
        self._flavor: Flavor | None = None
        self._ticks = TicksClock()
        self._rgb: tuple[int, ...] = (255, 255, 255)
        self._last_rx = 0.0
        self._last_tx = 0.0

    # ------------------------------------------------------------ properties

    @property
    def url(self) -> str:
        """The printer's websocket URL."""
        return f"ws://{self.host}:{self.port}{WEBSOCKET_PATH}"

    @property
    def stream_url(self) -> str:
        """The MJPEG stream URL (it streams only after ``enable_video(True)``)."""
        return f"http://{self.host}:{self.video_port}{VIDEO_PATH}"

    @property
    def mainboard_id(self) -> str:
        """The printer's MainboardID ("" until the printer told it)."""
        return self._mainboard_id

    @property
    def flavor(self) -> Flavor:
        """FDM (Centauri Carbon) or resin: decides the status-code table."""
        return self._flavor or Flavor.FDM

    # ------------------------------------------------------------ lifecycle

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close the websocket, and the HTTP session when this client made it."""
        await super().close()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _open(self) -> None:
        """Connect; say whether the printer turned us away for want of a free slot.

        The supervisor keeps retrying with backoff either way; the notice
        clears on the next attempt that gets in (or fails for another reason).
        """
        full = False
        try:
            await self._open_socket()
        except _NoFreeSlotError:
            full = True
            raise
        finally:
            self._set_notice(PrinterNotice.CONNECTION_SLOTS_EXHAUSTED, active=full)

    async def _open_socket(self) -> None:
        session = self._ensure_session()
        try:
            self._ws = await asyncio.wait_for(
                session.ws_connect(
                    self.url,
                    max_msg_size=4 * MAX_MESSAGE_BYTES,
                    autoping=True,
                    timeout=aiohttp.ClientWSTimeout(ws_close=self.close_timeout),
                ),
                self.request_timeout,
            )
        except aiohttp.WSServerHandshakeError as err:
            busy = err.status in _BUSY_HTTP_STATUSES
            raise (_NoFreeSlotError if busy else PrinterConnectionError)(
                f"{self.host}:{self.port} refused the websocket (HTTP {err.status}); "
                "the printer may already serve its maximum number of clients"
            ) from err
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise PrinterConnectionError(f"cannot reach {self.url}: {err}") from err
        try:
            await self._handshake()
        except BaseException:
            await self._teardown()
            raise

    async def _handshake(self) -> None:
        """Ask for attributes and status; read until both arrived."""
        loop = asyncio.get_running_loop()
        self._last_rx = self._last_tx = loop.time()
        self._reset_handshake()
        try:
            await self._send(Cmd.ATTRIBUTES, {})
            await self._send(Cmd.STATUS, {})
            deadline = loop.time() + self.request_timeout
            while not self._handshake_complete():
                left = deadline - loop.time()
                if left <= 0:
                    break
                await self._receive_one(left)
        finally:
            self._opening = False
        status = self._opening_status
        if status is None:
            raise PrinterProtocolError(
                f"{self.url} sent no SDCP status within {self.request_timeout:g} s"
            )
        self._load_identity(self._attributes, status)
        self._apply_status(status, connected=True)

    def _reset_handshake(self) -> None:
        self._opening = True
        self._opening_status = None
        self._attributes = None

    def _handshake_complete(self) -> bool:
        return self._attributes is not None and self._opening_status is not None

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        healthy = False
        while True:
            now = loop.time()
            if now - self._last_rx >= self.silence_timeout:
                raise PrinterConnectionError(
                    f"{self.host} sent nothing for {self.silence_timeout:g} s"
                )
            if now - self._last_tx >= self.keepalive_interval:
                await self._send(Cmd.STATUS, {})
            wait = (
                min(self._last_tx + self.keepalive_interval, self._last_rx + self.silence_timeout)
                - loop.time()
            )
            report = await self._receive_one(max(0.01, wait))
            if not healthy and isinstance(report, StatusReport):
                healthy = True
                self.backoff.reset()

    async def _teardown(self) -> None:
        ws, self._ws = self._ws, None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(PrinterConnectionError(f"connection to {self.host} closed"))
                future.exception()  # retrieved: nobody may be waiting any more
        self._pending.clear()
        for waiters in self._push_waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(
                        PrinterConnectionError(f"connection to {self.host} closed")
                    )
                    waiter.exception()
            waiters.clear()
        if ws is not None and not ws.closed:
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                await ws.close()

    # ------------------------------------------------------------ receiving

    async def _receive_one(self, timeout: float) -> Report | None:
        """Read and handle one message; None on timeout or for ignored input."""
        ws = self._ws
        if ws is None:
            raise PrinterConnectionError(f"connection to {self.host} is closed")
        try:
            msg = await ws.receive(timeout=timeout)
        except TimeoutError:
            return None
        if msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        ):
            # A full printer closes a new client at once, before it says anything
            # (the simulator, like servers in general, with 1013 "try again later").
            turned_away = ws.close_code == aiohttp.WSCloseCode.TRY_AGAIN_LATER or (
                self._opening and self._attributes is None and self._opening_status is None
            )
            hint = (
                "; a printer already serving its maximum of clients closes new ones at once"
                if turned_away
                else ""
            )
            raise (_NoFreeSlotError if turned_away else PrinterConnectionError)(
                f"{self.host} closed the websocket (code {ws.close_code}){hint}"
            )
        if msg.type is aiohttp.WSMsgType.ERROR:
            raise PrinterConnectionError(f"websocket error from {self.host}: {msg.data}")
        self._last_rx = asyncio.get_running_loop().time()
        if msg.type is not aiohttp.WSMsgType.TEXT:
            _LOGGER.debug("Ignoring a %s frame from %s", msg.type.name, self.host)
            return None
        text: str = msg.data
        if text == "pong":
            return None
        if len(text) > MAX_MESSAGE_BYTES:
            _LOGGER.debug("Ignoring an oversized message (%d bytes) from %s", len(text), self.host)
            return None
        try:
            report = parse_message(text)
        except SdcpParseError as err:
            _LOGGER.debug("Ignoring a malformed message from %s: %s", self.host, err)
            return None
        if report is None:
            _LOGGER.debug("Ignoring a message on an unknown topic from %s", self.host)
            return None
        self._handle(report)
        return report

    def _handle(self, report: Report) -> None:
        if isinstance(report, StatusReport):
            if report.mainboard_id and not self._mainboard_id:
                self._mainboard_id = report.mainboard_id
            if self._flavor is None and self._attributes is None:
                self._flavor = report.flavor_hint
            if self._opening:
                self._opening_status = report
            else:
                self._apply_status(report)
            self._wake("status")
        elif isinstance(report, AttributesReport):
            self._attributes = report
            self._flavor = report.flavor
            if report.mainboard_id:
                self._mainboard_id = report.mainboard_id
            if self._info is not None and not self._opening:
                self._info = dataclasses.replace(
                    self._info,
                    name=report.name or report.machine_name or self._info.name,
                    model=report.machine_name or self._info.model,
                    firmware=report.firmware or self._info.firmware,
                )
            self._wake("attributes")
        elif isinstance(report, ResponseReport):
            future = self._pending.get(report.request_id or "")
            if future is not None and not future.done():
                future.set_result(report)
        elif isinstance(report, ErrorReport):
            self._error_code = report.code
            self._update_state(error=f"printer error code {report.code}")
        elif isinstance(report, NoticeReport):
            _LOGGER.debug("Notice from %s: %s", self.host, report.message)

    def _wake(self, push: str) -> None:
        waiters = self._push_waiters[push]
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        waiters.clear()

    async def _request_push(self, cmd: Cmd, push: str) -> None:
        """Send ``cmd`` and wait for the push it triggers (status or attributes)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._push_waiters[push].append(waiter)
        try:
            await self._request(cmd, {})
            async with asyncio.timeout(self.request_timeout):
                await waiter
        except TimeoutError as err:
            raise PrinterConnectionError(
                f"{self.host} sent no {push} after Cmd {int(cmd)}"
            ) from err
        finally:
            with contextlib.suppress(ValueError):
                self._push_waiters[push].remove(waiter)

    def _apply_status(self, report: StatusReport, *, connected: bool | None = None) -> None:
        resolved, changes = status_changes(report, self.flavor, self._ticks)
        if resolved is not None and resolved.status is not PrintStatus.ERROR:
            self._error_code = None
        elif resolved is not None and self._error_code is not None:
            changes["error"] = f"printer error code {self._error_code}"
        if report.rgb_light is not None:
            self._rgb = report.rgb_light
        updates = {
            key: value
            for key, value in (
                ("position", list(report.position) if report.position else None),
                ("z_offset", report.z_offset),
                ("chamber_target", report.box_target),
                ("uv_led_temp", report.uvled_temp),
                ("task_id", report.task_id or None),
                ("print_status_code", report.print_code),
                ("machine_status", list(report.machine_codes) or None),
            )
            if value is not None
        }
        changes["extra"] = {**self._state.extra, **updates}
        if connected is not None:
            changes["connected"] = connected
            if "status" not in changes and self._state.status is PrintStatus.OFFLINE:
                changes["status"] = PrintStatus.IDLE  # reachable, but it did not say more
        self._update_state(**changes)

    def _load_identity(self, attrs: AttributesReport | None, status: StatusReport) -> None:
        mainboard = self._mainboard_id or (attrs.mainboard_id if attrs else None) or ""
        if not mainboard:
            raise PrinterProtocolError(f"{self.host} did not say its MainboardID")
        self._mainboard_id = mainboard
        if self._flavor is None:
            self._flavor = status.flavor_hint or Flavor.FDM
        fdm = self.flavor is Flavor.FDM
        name = (attrs.name or attrs.machine_name) if attrs else None
        self._info = PrinterInfo(
            kind=self.kind,
            unique_id=mainboard,
            name=name or f"Elegoo {self.host}",
            model=attrs.machine_name if attrs else None,
            serial=mainboard,
            firmware=attrs.firmware if attrs else None,
            host=self.host,
            configuration_url=f"http://{self.host}/",
        )
        has_camera = attrs.has_camera if attrs else fdm
        self._capabilities = Capabilities(
            camera=CameraKind.MJPEG if has_camera else CameraKind.NONE,
            chamber_temperature=status.box_temp is not None,
            light=fdm,
            temperature_control=fdm,
            speed_presets=tuple(SPEED_PRESETS) if fdm else (),
            controllable_fans=_reported_fans(status) if fdm else (),
            layers=True,
        )
        self._camera = (
            CameraInfo(kind=CameraKind.MJPEG, stream_url=self.stream_url)
            if has_camera
            else CameraInfo()
        )

    # ------------------------------------------------------------ sending

    async def _send(self, cmd: int, data: dict[str, Any], request_id: str | None = None) -> str:
        """Send one request envelope; return its RequestID."""
        ws = self._ws
        if ws is None or ws.closed:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        request_id = request_id or uuid.uuid4().hex
        envelope = {
            "Id": "",
            "Data": {
                "Cmd": int(cmd),
                "Data": data,
                "RequestID": request_id,
                "MainboardID": self._mainboard_id,
                "TimeStamp": int(time.time()),
                "From": FROM_LAN_CLIENT,
            },
            "Topic": f"sdcp/request/{self._mainboard_id}",
        }
        try:
            async with self._send_lock:
                await ws.send_str(json.dumps(envelope))
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            raise PrinterConnectionError(f"cannot send to {self.host}: {err}") from err
        self._last_tx = asyncio.get_running_loop().time()
        return request_id

    async def _request(self, cmd: int, data: dict[str, Any]) -> dict[str, Any]:
        """Send a request and wait for its ack; raise PrinterCommandError on a refusal."""
        if not self._state.connected:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        request_id = uuid.uuid4().hex
        future: asyncio.Future[ResponseReport] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._send(cmd, data, request_id)
            async with asyncio.timeout(self.request_timeout):
                response = await future
        except TimeoutError as err:
            raise PrinterConnectionError(
                f"{self.host} did not answer Cmd {int(cmd)} within {self.request_timeout:g} s"
            ) from err
        finally:
            self._pending.pop(request_id, None)
        if response.ack:
            raise PrinterCommandError(
                f"{self.host} refused Cmd {int(cmd)} (Ack {response.ack})",
                reason=ack_reason(cmd, response.ack),
            )
        return response.data

    # ------------------------------------------------------------ commands

    async def refresh(self) -> PrinterState:
        """Ask for a status push (Cmd 0) and return the state it produced."""
        await self._request_push(Cmd.STATUS, "status")
        return self._state

    async def refresh_attributes(self) -> PrinterInfo:
        """Ask for the attributes again (Cmd 1); name or firmware may have changed."""
        await self._request_push(Cmd.ATTRIBUTES, "attributes")
        return self.info

    async def start_print(self, filename: str, *, start_layer: int = 0) -> None:
        """Start a file stored on the printer (Cmd 128), e.g. ``/local/part.gcode``.

        Raises PrinterCommandError with the ack's reason (``busy``,
        ``file_not_found`` ...) when refused; returns once the job runs.
        """
        if not self._state.connected:
            raise PrinterConnectionError(f"start: printer {self.host} is offline")
        await self._request(Cmd.START_PRINT, {"Filename": filename, "StartLayer": start_layer})
        name = filename.rsplit("/", 1)[-1]
        await self._confirm(
            lambda s: s.job == name and s.status in _RUNNING, "start", self.confirm_timeout
        )

    async def pause(self) -> None:
        """Pause (Cmd 129); returns once the printer reports pausing or paused."""
        self._require_active("pause")
        if self._state.status is PrintStatus.PAUSED:
            return
        await self._request(Cmd.PAUSE, {})
        await self._confirm(lambda s: s.status is PrintStatus.PAUSED, "pause", self.confirm_timeout)

    async def resume(self) -> None:
        """Resume (Cmd 131); returns once the printer reports printing again."""
        self._require_active("resume")
        if self._state.status is not PrintStatus.PAUSED:
            raise PrinterCommandError(
                f"resume: the job is not paused (status is {self._state.status})",
                reason="not_paused",
            )
        await self._request(Cmd.RESUME, {})
        await self._confirm(lambda s: s.status in _RUNNING, "resume", self.confirm_timeout)

    async def stop(self) -> None:
        """Cancel the job (Cmd 130); returns once the printer reports stopped."""
        self._require_active("stop")
        await self._request(Cmd.STOP, {})
        await self._confirm(lambda s: s.status in _STOPPED, "stop", self.confirm_timeout)

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target (Cmd 403 ``TempTargetNozzle``), confirmed by status."""
        self._require_fdm("nozzle target")
        target = round(check_temperature(celsius, MAX_NOZZLE_C, "nozzle target"))
        await self._set_params(
            {"TempTargetNozzle": target}, lambda s: s.nozzle_target == target, "nozzle target"
        )

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target (Cmd 403 ``TempTargetHotbed``), confirmed by status."""
        self._require_fdm("bed target")
        target = round(check_temperature(celsius, MAX_BED_C, "bed target"))
        await self._set_params(
            {"TempTargetHotbed": target}, lambda s: s.bed_target == target, "bed target"
        )

    async def set_light(self, on: bool) -> None:
        """Switch the chamber light (Cmd 403 ``LightStatus.SecondLight``)."""
        self._require_fdm("light")
        await self._set_params(
            {"LightStatus": {"SecondLight": on, "RgbLight": list(self._rgb)}},
            lambda s: s.light_on is on,
            "light",
        )

    async def set_speed_preset(self, preset: str) -> None:
        """Choose a speed preset (silent, balanced, sport, ludicrous) via ``PrintSpeedPct``."""
        self._require_fdm("speed")
        if preset not in SPEED_PRESETS:
            raise PrinterCommandError(
                f"speed: {preset!r} is not one of {', '.join(SPEED_PRESETS)}",
                reason="invalid_value",
            )
        if self._state.status not in ACTIVE_STATUSES:
            raise PrinterCommandError(
                "speed: the printer applies speed presets only during a job", reason="not_printing"
            )
        percent = SPEED_PRESETS[preset]
        await self._set_params(
            {"PrintSpeedPct": percent}, lambda s: s.speed_factor == percent, "speed"
        )

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set a fan (Cmd 403 ``TargetFanSpeed``, 0-100), confirmed by ``CurrentFanSpeed``."""
        kind = self._check_fan(fan, percent)
        self._require_fdm(f"{kind.value} fan")
        await self._set_params(
            {"TargetFanSpeed": {_FAN_KEYS[kind]: percent}},
            lambda s: (speed := s.fan_speed(kind)) is not None and abs(speed - percent) <= 1,
            f"{kind.value} fan",
        )

    async def _set_params(self, data: dict[str, Any], done: StatePredicate, what: str) -> None:
        """Cmd 403, then a status refresh; the change counts only once the status shows it."""
        await self._request(Cmd.DEVICE_PARAMS, data)
        if done(self._state):
            return
        await self._send(Cmd.STATUS, {})
        try:
            await self._confirm(done, what, self.confirm_timeout)
        except PrinterCommandError as err:
            if self._state.status in _RUNNING | {PrintStatus.PAUSED}:
                raise PrinterCommandError(
                    f"{what}: the printer accepted the change but its status does not show it; "
                    "some firmware (Centauri Carbon 1.1.29) ignores it while printing",
                    reason="not_confirmed",
                ) from err
            raise

    def _require_fdm(self, what: str) -> None:
        if not self._state.connected:
            raise PrinterConnectionError(f"{what}: printer {self.host} is offline")
        if self.flavor is not Flavor.FDM:
            raise PrinterNotSupportedError(f"{what}: resin printers have no such control")

    # ------------------------------------------------------------ camera

    async def enable_video(self, *, on: bool) -> str:
        """Switch the MJPEG server on or off (Cmd 386); return the stream URL.

        Only one stream may be open at a time, and an open stream counts
        against the printer's client limit: switch it off when done. While it
        is switched on here, ``snapshot()`` leaves it on.
        """
        url = await self._switch_video(on=on)
        self._video_held = on
        return url

    async def open_stream(self) -> str | None:
        """Switch the MJPEG server on for a viewer (see ``enable_video``)."""
        if self._camera.kind is CameraKind.NONE:
            return None
        return await self.enable_video(on=True)

    async def close_stream(self) -> None:
        """Switch the MJPEG server off again when the viewer leaves."""
        if self._video_held and self.connected:
            await self.enable_video(on=False)

    async def _switch_video(self, *, on: bool) -> str:
        data = await self._request(Cmd.VIDEO, {"Enable": 1 if on else 0})
        reported = as_str(data.get("VideoUrl"))
        if not reported:
            return self.stream_url
        url = URL(reported if "://" in reported else f"http://{reported}")
        # The printer names itself by its own IP; reach it the way this client does.
        return str(url.with_host(self.host))

    async def snapshot(self) -> bytes:
        """Open the camera, read one JPEG from the MJPEG stream, then release it.

        Raises PrinterCommandError ``camera_busy`` when another viewer holds
        the printer's only stream.
        """
        if self._camera.kind is CameraKind.NONE:
            raise PrinterNotSupportedError(f"{self.host} has no camera")
        session = self._ensure_session()
        async with self._camera_lock:
            url = await self._switch_video(on=True)
            try:
                timeout = aiohttp.ClientTimeout(total=self.request_timeout)
                async with session.get(url, timeout=timeout) as response:
                    if response.status == 503:
                        raise PrinterCommandError(
                            "the camera's only stream is in use by another viewer",
                            reason="camera_busy",
                        )
                    if response.status != 200:
                        raise PrinterProtocolError(
                            f"the video stream answered HTTP {response.status}"
                        )
                    return await read_first_jpeg(response, MAX_IMAGE_BYTES)
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                raise PrinterConnectionError(f"cannot read the video stream: {err}") from err
            finally:
                if not self._video_held:
                    with contextlib.suppress(PrinterError):
                        await self._switch_video(on=False)


#: ``TargetFanSpeed`` / ``CurrentFanSpeed`` keys of each fan.
_FAN_KEYS = {
    FanKind.PART_COOLING: "ModelFan",
    FanKind.AUXILIARY: "AuxiliaryFan",
    FanKind.CHAMBER: "BoxFan",
}


def _reported_fans(status: StatusReport) -> tuple[FanKind, ...]:
    """The fans whose speed the printer reports (and so can be set and confirmed)."""
    speeds = (
        (FanKind.PART_COOLING, status.fan_model),
        (FanKind.AUXILIARY, status.fan_auxiliary),
        (FanKind.CHAMBER, status.fan_box),
    )
    return tuple(fan for fan, speed in speeds if speed is not None)
