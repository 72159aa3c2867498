"""Bambu Lab LAN client: MQTT over TLS to the printer's own broker.

The printer is the broker (port 8883, user ``bblp``, password = LAN access
code, certificate name = serial). The client subscribes to
``device/<serial>/report``, asks for everything with ``pushall`` and merges the
reports that follow (P1/A1/H2 send only what changed). Commands go to
``device/<serial>/request`` and are confirmed by the state that follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
import dataclasses
import itertools
import json
import logging
from pathlib import Path
import ssl
import time
from typing import Any, Final
from urllib.parse import quote
import uuid

from ..base import (
    COMMAND_CONFIRM_TIMEOUT,
    MAX_IMAGE_BYTES,
    MAX_MESSAGE_BYTES,
    PrinterClient,
    StatePredicate,
    check_temperature,
    fan_pwm,
)
from ..exceptions import (
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
)
from ..models import (
    ACTIVE_STATUSES,
    CameraInfo,
    CameraKind,
    FanKind,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintStatus,
)
from .camera import DEFAULT_CAMERA_PORT, USERNAME, fetch_frame
from .models import (
    SPEED_PRESETS,
    UNKNOWN_MODEL,
    ModelSpec,
    capabilities_for,
    default_name,
    model_from_serial,
    spec_for,
)
from .mqtt import AsyncMqtt
from .parse import (
    AUTHORIZATION_ERRORS,
    CONTROL_UNAVAILABLE_REASON,
    as_int,
    deep_merge,
    parse_print,
    parse_version,
)
from .tls import bundled_ca_pem, client_context

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = 8883
RTSPS_PORT: Final = 322
#: No report for this long means the connection is dead (a pushall is sent at half of it).
DEFAULT_WATCHDOG_S: Final = 60.0
#: MQTT keep-alive; paho pings at this interval and drops a silent broker after 1.5x.
KEEPALIVE_S: Final = 15
_MAX_NOZZLE_C: Final = 350.0
_MAX_BED_C: Final = 120.0
_REFUSED_RESULTS: Final = frozenset({"fail", "failed", "error"})


class BambuClient(PrinterClient):
    """A Bambu Lab printer in LAN mode (X1, P1, A1, H2, P2 families)."""

    kind = PrinterKind.BAMBU

    def __init__(
        self,
        host: str,
        *,
        serial: str,
        access_code: str,
        port: int = DEFAULT_PORT,
        camera_port: int | None = None,
        model: str | None = None,
        ca_file: str | None = None,
        name: str | None = None,
        request_timeout: float = 10.0,
        watchdog_s: float = DEFAULT_WATCHDOG_S,
    ) -> None:
        """Store where and how to connect; nothing is opened until ``connect()``."""
        super().__init__(host, request_timeout=request_timeout)
        if not serial:
            raise PrinterError("a Bambu printer needs its serial number")
        if not access_code:
            raise PrinterError("a Bambu printer needs its LAN access code")
        self.serial = serial.strip()
        self.port = port
        self.camera_port = camera_port or DEFAULT_CAMERA_PORT
        self.watchdog_s = watchdog_s
        self.confirm_timeout = COMMAND_CONFIRM_TIMEOUT
        self._access_code = access_code
        self._ca_file = ca_file
        self._name = name
        self._spec: ModelSpec = spec_for(model) or model_from_serial(self.serial) or UNKNOWN_MODEL
        self._model_hinted = self._spec is not UNKNOWN_MODEL
        self._ssl: ssl.SSLContext | None = None
        self._mqtt: AsyncMqtt | None = None
        self._raw: dict[str, Any] = {}
        self._firmware: str | None = None
        self._version_seen: asyncio.Event = asyncio.Event()
        self._report_waiters: list[asyncio.Future[None]] = []
        self._replies: dict[tuple[str, str], tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._sequence = itertools.count(1)
        self._last_message = 0.0
        self._poked = False
        self._fun_requires_auth = False
        self._refused_auth = False

    def __repr__(self) -> str:
        """No access code in reprs."""
        return f"BambuClient(host={self.host!r}, serial={self.serial!r}, model={self._spec.code!r})"

    @property
    def model(self) -> ModelSpec:
        """The recognised model (``UNKNOWN_MODEL`` until known)."""
        return self._spec

    @property
    def raw_report(self) -> dict[str, Any]:
        """The merged ``print`` object as last reported (read-only use)."""
        return self._raw

    @property
    def _report_topic(self) -> str:
        return f"device/{self.serial}/report"

    @property
    def _request_topic(self) -> str:
        return f"device/{self.serial}/request"

    # ------------------------------------------------------------ lifecycle

    async def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            ca_file = self._ca_file

            def build() -> ssl.SSLContext:
                bundled_ca_pem()
                extra = Path(ca_file).read_text(encoding="ascii") if ca_file else None
                return client_context(extra)

            try:
                self._ssl = await asyncio.to_thread(build)
            except (OSError, ssl.SSLError, ValueError) as err:
                raise PrinterConnectionError(f"cannot load the CA certificates: {err}") from err
        return self._ssl

    async def _open(self) -> None:
        context = await self._ssl_context()
        self._raw = {}
        self._poked = False
        self._refused_auth = False  # re-learnt per connection: Developer mode may have changed
        self._version_seen.clear()
        mqtt = AsyncMqtt(
            self.host,
            self.port,
            username=USERNAME,
            password=self._access_code,
            ssl_context=context,
            server_hostname=self.serial,
            on_message=self._on_message,
            keepalive=KEEPALIVE_S,
            client_id=f"printfarm-{uuid.uuid4().hex[:12]}",
            on_lost=self._on_lost,
        )
        await mqtt.connect(self.request_timeout)
        self._mqtt = mqtt
        try:
            mqtt.subscribe(self._report_topic)
            first_report = self._next_report()
            self._publish({"info": {"sequence_id": "0", "command": "get_version"}})
            self._publish_pushall()
            async with asyncio.timeout(self.request_timeout):
                await first_report
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(2.0, self.request_timeout)):
                    await self._version_seen.wait()
        except TimeoutError as err:
            await self._teardown()
            raise PrinterConnectionError(
                f"{self.host}: connected, but no report within {self.request_timeout:g} s "
                "(is the serial number right?)"
            ) from err
        except BaseException:
            await self._teardown()
            raise
        self._refresh_identity()
        self._update_state(connected=True)

    def _refresh_identity(self) -> None:
        spec = self._spec
        known = spec is not UNKNOWN_MODEL
        self._info = PrinterInfo(
            kind=self.kind,
            unique_id=self.serial,
            name=self._name or default_name(spec.name if known else None, self.serial),
            model=spec.name if known else None,
            serial=self.serial,
            firmware=self._firmware,
            host=self.host,
        )
        self._capabilities = capabilities_for(spec)
        camera = spec.camera
        ipcam = self._raw.get("ipcam")
        rtsp = ipcam.get("rtsp_url") if isinstance(ipcam, Mapping) else None
        if camera is CameraKind.NONE and isinstance(rtsp, str) and rtsp.startswith("rtsps://"):
            camera = CameraKind.RTSPS
        if camera is CameraKind.RTSPS:
            code = quote(self._access_code, safe="")
            self._camera = CameraInfo(
                kind=camera,
                stream_url=f"rtsps://{USERNAME}:{code}@{self.host}:{RTSPS_PORT}/streaming/live/1",
            )
        else:
            self._camera = CameraInfo(kind=camera)
        if camera is not self._capabilities.camera:
            self._capabilities = dataclasses.replace(self._capabilities, camera=camera)

    async def _listen(self) -> None:
        mqtt = self._mqtt
        if mqtt is None or mqtt.lost is None:
            raise PrinterConnectionError("not connected")
        lost = mqtt.lost
        loop = asyncio.get_running_loop()
        healthy = False
        while True:
            silence = loop.time() - self._last_message
            if silence >= self.watchdog_s:
                raise PrinterConnectionError(f"no report from the printer for {silence:.0f} s")
            if silence >= self.watchdog_s / 2 and not self._poked:
                self._poked = True
                _LOGGER.debug("%s silent for %.0f s: asking for a pushall", self.host, silence)
                self._publish_pushall()
            if not healthy and silence < self.watchdog_s / 2:
                healthy = True
                self.backoff.reset()
            deadline = self.watchdog_s if self._poked else self.watchdog_s / 2
            await asyncio.wait({lost}, timeout=max(0.01, deadline - silence))
            if lost.done():
                raise PrinterConnectionError(f"connection lost: {lost.result()}")

    async def _teardown(self) -> None:
        mqtt, self._mqtt = self._mqtt, None
        if mqtt is not None:
            await mqtt.close()
        for _, future in self._replies.values():
            if not future.done():
                future.cancel()
        self._replies.clear()
        self._fail_report_waiters(PrinterConnectionError(f"{self.host}: connection closed"))

    def _fail_report_waiters(self, error: PrinterError) -> None:
        waiters, self._report_waiters = self._report_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(error)
                waiter.exception()  # retrieved: nobody may be waiting any more

    # ------------------------------------------------------------ messages

    def _on_message(self, topic: str, payload: bytes) -> None:
        if len(payload) > MAX_MESSAGE_BYTES:
            _LOGGER.debug("Dropping a %d-byte message from %s", len(payload), self.host)
            return
        try:
            message = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            _LOGGER.debug("Dropping a malformed message from %s", self.host)
            return
        if not isinstance(message, dict):
            _LOGGER.debug("Dropping a non-object message from %s", self.host)
            return
        self._last_message = asyncio.get_running_loop().time()
        self._poked = False
        for cls, body in message.items():
            if not isinstance(body, dict):
                continue
            command = body.get("command")
            if cls == "print" and command == "push_status":
                self._apply_report(body)
                continue
            if cls == "info" and command == "get_version":
                self._apply_version(body)
            if isinstance(command, str):
                self._resolve_reply(cls, command, body)

    def _on_lost(self, why: str) -> None:
        """Fail whatever waits for a report: none will come on this connection."""
        error = PrinterConnectionError(f"{self.host}: connection lost ({why})")
        self._fail_report_waiters(error)
        for _, reply in self._replies.values():
            if not reply.done():
                reply.set_exception(error)
                reply.exception()  # retrieved: the command may already have returned

    def _apply_report(self, body: Mapping[str, Any]) -> None:
        delta = {k: v for k, v in body.items() if k not in ("command", "sequence_id", "msg")}
        self._raw = deep_merge(self._raw, delta)
        self._parse_raw()
        waiters, self._report_waiters = self._report_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _parse_raw(self) -> None:
        """Turn the merged report into state (again, when the model became known)."""
        try:
            fields = parse_print(self._raw, self._spec, time.time())
        except Exception:  # never let one odd report kill the connection
            _LOGGER.exception("Could not parse a report from %s", self.host)
            return
        auth = fields.pop("authorization_required", None)
        if auth is not None:
            self._fun_requires_auth = auth
        blocked = self._fun_requires_auth or self._refused_auth
        fields["control_available"] = not blocked
        fields["control_unavailable_reason"] = CONTROL_UNAVAILABLE_REASON if blocked else None
        fields["notices"] = self._notices(blocked, fields.get("extra", {}).get("liveview"))
        self._update_state(**fields)

    def _notices(self, blocked: bool, liveview: bool | None) -> frozenset[PrinterNotice]:
        """Developer mode and LAN liveview, as the last report tells them."""
        notices = set(self._state.notices)
        notices.discard(PrinterNotice.DEVELOPER_MODE_REQUIRED)
        notices.discard(PrinterNotice.LIVEVIEW_DISABLED)
        if blocked:
            notices.add(PrinterNotice.DEVELOPER_MODE_REQUIRED)
        # P1/A1 stream over their own socket; only the RTSPS models have the liveview switch
        if liveview is False and self._spec.camera is not CameraKind.JPEG_SOCKET:
            notices.add(PrinterNotice.LIVEVIEW_DISABLED)
        return frozenset(notices)

    def _apply_version(self, body: Mapping[str, Any]) -> None:
        firmware, spec = parse_version(body)
        if firmware:
            self._firmware = firmware
        if spec is not None and not self._model_hinted and spec is not self._spec:
            self._spec = spec
            if self._raw:
                self._parse_raw()
        self._version_seen.set()
        if self._info is not None:
            self._refresh_identity()

    def _resolve_reply(self, cls: str, command: str, body: dict[str, Any]) -> None:
        sequence = body.get("sequence_id")
        key = (cls, str(sequence))
        entry = self._replies.get(key)
        if entry is None or entry[0] != command:
            # some firmware does not echo the sequence id: take the oldest waiter
            entry = next(
                (e for (c, _), e in self._replies.items() if c == cls and e[0] == command), None
            )
        if entry is not None and not entry[1].done():
            entry[1].set_result(body)

    def _next_report(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._report_waiters.append(future)
        return future

    def _publish(self, message: dict[str, Any]) -> None:
        if self._mqtt is None:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        self._mqtt.publish(self._request_topic, json.dumps(message), qos=1)

    def _publish_pushall(self) -> None:
        self._publish(
            {
                "pushing": {
                    "sequence_id": "0",
                    "command": "pushall",
                    "version": 1,
                    "push_target": 1,
                }
            }
        )

    # ------------------------------------------------------------- commands

    async def _command(
        self,
        cls: str,
        body: dict[str, Any],
        what: str,
        confirm: StatePredicate | None,
        *,
        needs_control: bool = True,
    ) -> None:
        """Send one request; return when ``confirm`` holds (or, without one, on the ack)."""
        if not self._state.connected or self._mqtt is None:
            raise PrinterConnectionError(f"{what}: printer {self.host} is offline")
        if needs_control and not self._state.control_available:
            raise PrinterCommandError(
                f"{what}: {self._state.control_unavailable_reason or CONTROL_UNAVAILABLE_REASON}",
                reason="control_unavailable",
            )
        sequence = str(next(self._sequence))
        command = str(body["command"])
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[(cls, sequence)] = (command, reply)
        state: asyncio.Future[PrinterState] | None = None
        try:
            self._publish({cls: {"sequence_id": sequence, **body}})
            async with asyncio.timeout(self.confirm_timeout):
                if confirm is None:
                    self._check_reply(await reply, what)
                    return
                state = asyncio.ensure_future(self.wait_for_state(confirm, self.confirm_timeout))
                pending: set[asyncio.Future[Any]] = {state, reply}
                while pending:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    if reply in done and not reply.cancelled():
                        self._check_reply(reply.result(), what)
                    if state in done:
                        state.result()
                        return
        except TimeoutError as err:
            raise PrinterCommandError(
                f"{what}: the printer did not confirm the command (status is {self._state.status})",
                reason="not_confirmed",
            ) from err
        finally:
            self._replies.pop((cls, sequence), None)
            if state is not None and not state.done():
                state.cancel()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await state

    def _check_reply(self, reply: Mapping[str, Any], what: str) -> None:
        code = as_int(reply.get("err_code"))
        if isinstance(code, int) and code in AUTHORIZATION_ERRORS:
            self._refused_auth = True
            self._update_state(
                control_available=False,
                control_unavailable_reason=CONTROL_UNAVAILABLE_REASON,
                notices=self._state.notices | {PrinterNotice.DEVELOPER_MODE_REQUIRED},
            )
            raise PrinterCommandError(
                f"{what}: refused by the printer: {CONTROL_UNAVAILABLE_REASON}",
                reason="control_unavailable",
            )
        result = reply.get("result")
        failed = isinstance(result, str) and result.strip().lower() in _REFUSED_RESULTS
        if failed or (isinstance(code, int) and code != 0):
            why = reply.get("reason") or (f"error {code}" if code else "failed")
            raise PrinterCommandError(f"{what}: refused by the printer ({why})", reason="rejected")

    async def refresh(self) -> PrinterState:
        """Ask for a full report (``pushall``) and return the state it produced."""
        if self._mqtt is None:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        report = self._next_report()
        self._publish_pushall()
        try:
            async with asyncio.timeout(self.request_timeout):
                await report
        except TimeoutError as err:
            raise PrinterConnectionError(f"{self.host}: no answer to pushall") from err
        return self._state

    async def pause(self) -> None:
        """Pause the job; returns when the printer reports PAUSE."""
        self._require_active("pause")
        await self._command(
            "print",
            {"command": "pause", "param": ""},
            "pause",
            lambda s: s.status is PrintStatus.PAUSED,
        )

    async def resume(self) -> None:
        """Resume a paused job; returns when the printer runs again."""
        self._require_active("resume")
        await self._command(
            "print",
            {"command": "resume", "param": ""},
            "resume",
            lambda s: s.status in (PrintStatus.PRINTING, PrintStatus.PREPARING),
        )

    async def stop(self) -> None:
        """Cancel the job; returns when the printer reports it is no longer running."""
        self._require_active("stop")
        await self._command(
            "print",
            {"command": "stop", "param": ""},
            "stop",
            lambda s: s.connected and s.status not in ACTIVE_STATUSES,
        )

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target with ``M104``; returns when the report shows it."""
        target = round(check_temperature(celsius, _MAX_NOZZLE_C, "nozzle"))
        await self._command(
            "print",
            {"command": "gcode_line", "param": f"M104 S{target}\n"},
            "set nozzle target",
            lambda s: s.nozzle_target is not None and abs(s.nozzle_target - target) < 0.5,
        )

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target with ``M140``; returns when the report shows it."""
        target = round(check_temperature(celsius, _MAX_BED_C, "bed"))
        await self._command(
            "print",
            {"command": "gcode_line", "param": f"M140 S{target}\n"},
            "set bed target",
            lambda s: s.bed_target is not None and abs(s.bed_target - target) < 0.5,
        )

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set a fan with ``M106 P<1-3> S<0-255>``; returns when the report shows it.

        The printer reports fans in 16 levels, so the confirmation allows half
        a level either way.
        """
        kind = self._check_fan(fan, percent)
        await self._command(
            "print",
            {"command": "gcode_line", "param": f"M106 P{_FAN_INDEX[kind]} S{fan_pwm(percent)}\n"},
            f"set {kind.value} fan",
            lambda s: (speed := s.fan_speed(kind)) is not None
            and abs(speed - percent) <= _FAN_TOLERANCE,
        )

    async def set_light(self, on: bool) -> None:
        """Switch the chamber light(s); works even on authorization-control firmware."""
        mode = "on" if on else "off"
        for node in self._spec.lights[1:]:
            self._publish({"system": _ledctrl(str(next(self._sequence)), node, mode)})
        body = _ledctrl("", self._spec.lights[0], mode)
        del body["sequence_id"]
        await self._command(
            "system", body, "set light", lambda s: s.light_on is on, needs_control=False
        )

    async def send_gcode(self, gcode: str) -> None:
        """Send G-code lines (``print.gcode_line``); returns on the printer's ack."""
        if not gcode.strip():
            raise PrinterCommandError("send_gcode: empty G-code", reason="invalid_value")
        line = gcode if gcode.endswith("\n") else f"{gcode}\n"
        await self._command("print", {"command": "gcode_line", "param": line}, "send G-code", None)

    async def set_speed_preset(self, preset: str) -> None:
        """Switch to silent / standard / sport / ludicrous (``print.print_speed``)."""
        if preset not in SPEED_PRESETS:
            raise PrinterCommandError(
                f"speed preset must be one of {', '.join(SPEED_PRESETS)}", reason="invalid_value"
            )
        level = SPEED_PRESETS.index(preset) + 1
        await self._command(
            "print",
            {"command": "print_speed", "param": str(level)},
            "set speed",
            lambda s: s.speed_preset == preset,
        )

    async def snapshot(self) -> bytes:
        """One JPEG from the P1/A1 camera socket (opened for this frame and closed)."""
        if self._camera.kind is CameraKind.RTSPS:
            raise PrinterNotSupportedError(
                f"{self._spec.name} streams RTSPS ({RTSPS_PORT}); take stills from the stream"
            )
        if self._camera.kind is not CameraKind.JPEG_SOCKET:
            raise PrinterNotSupportedError(f"printer {self.host} has no camera printfarm can read")
        context = await self._ssl_context()
        return await fetch_frame(
            self.host,
            self.camera_port,
            access_code=self._access_code,
            ssl_context=context,
            server_hostname=self.serial,
            timeout=self.request_timeout,
            limit=MAX_IMAGE_BYTES,
        )


#: ``M106 P<n>``: 1 part cooling, 2 auxiliary, 3 chamber.
_FAN_INDEX: Final = {FanKind.PART_COOLING: 1, FanKind.AUXILIARY: 2, FanKind.CHAMBER: 3}
#: Half of one of the 15 reported fan steps, plus rounding.
_FAN_TOLERANCE: Final = 100 / 15 / 2 + 1


def _ledctrl(sequence: str, node: str, mode: str) -> dict[str, Any]:
    """A ``system.ledctrl`` request; every timing key must be present."""
    return {
        "sequence_id": sequence,
        "command": "ledctrl",
        "led_node": node,
        "led_mode": mode,
        "led_on_time": 500,
        "led_off_time": 500,
        "loop_times": 0,
        "interval_time": 0,
    }
