"""Bambu commands and cameras: print control, G-code lines, lights, the two camera paths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

from .. import commands as cmd
from ..coerce import as_text
from ..commands import Command, Need, StatePredicate, check_temperature, fan_pwm
from ..engine import Ack
from ..exceptions import PrinterCommandError, PrinterError, Reason
from ..limits import MAX_IMAGE_BYTES
from ..models import CameraKind, FanKind, PrinterNotice
from .camera import USERNAME, fetch_frame
from .client import BambuClientBase
from .models import SPEED_PRESETS
from .parse import AUTHORIZATION_ERRORS, CONTROL_UNAVAILABLE_REASON
from .rtsps import RTSPS_PORT, RtspsRelay
from .values import as_int

_REFUSED_RESULTS: Final = frozenset({"fail", "failed", "error"})
#: ``M106 P<n>``: 1 part cooling, 2 auxiliary, 3 chamber.
_FAN_INDEX: Final = {FanKind.PART_COOLING: 1, FanKind.AUXILIARY: 2, FanKind.CHAMBER: 3}


class BambuClient(BambuClientBase):
    """A Bambu Lab printer in LAN mode (X1, P1, A1, H2, P2 families)."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        """See ``BambuClientBase``."""
        super().__init__(host, **kwargs)
        self._relay: RtspsRelay | None = None
        #: Where the X1/H2 RTSPS server listens.
        self.rtsps_port = RTSPS_PORT

    def _send(self, cls: str, body: dict[str, Any]) -> Ack:
        """Publish one request; the returned awaitable checks the printer's reply."""
        sequence = str(next(self._sequence))
        command = str(body["command"])
        key = (cls, sequence, command)
        reply = self._replies.expect(key)
        try:
            self._publish({cls: {"sequence_id": sequence, **body}})
        except PrinterError:
            self._replies.discard(key)
            raise

        async def acknowledged() -> None:
            try:
                self._check_reply(await reply, command)
            finally:
                self._replies.discard(key)

        return acknowledged()

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
        needs = Need.CONNECTED | (Need.CONTROL if needs_control else Need.NOTHING)
        await self._run(Command(name=what, needs=needs, confirm=confirm), self._sender(cls, body))

    def _sender(self, cls: str, body: dict[str, Any]) -> Callable[[], Awaitable[Ack]]:
        async def send() -> Ack:
            return self._send(cls, body)

        return send

    def _check_reply(self, reply: Mapping[str, Any], what: str) -> None:
        code = as_int(reply.get("err_code"))
        if isinstance(code, int) and code in AUTHORIZATION_ERRORS:
            self._refused_auth = True
            self._update_state(
                control_available=False,
                control_unavailable_reason=Reason.CONTROL_UNAVAILABLE,
                notices=self._state.notices | {PrinterNotice.DEVELOPER_MODE_REQUIRED},
            )
            raise PrinterCommandError(
                f"{what}: refused by the printer: {CONTROL_UNAVAILABLE_REASON}",
                reason=Reason.CONTROL_UNAVAILABLE,
            )
        result = reply.get("result")
        failed = isinstance(result, str) and result.strip().lower() in _REFUSED_RESULTS
        if failed or (isinstance(code, int) and code != 0):
            why = as_text(reply.get("reason")) or (f"error {code}" if code else "failed")
            raise PrinterCommandError(f"{what}: refused by the printer ({why[:200]})")

    async def _print(self, command: Command, body: dict[str, Any]) -> None:
        await self._run(command, self._sender("print", body))

    async def pause(self) -> None:
        """Pause the job; returns when the printer reports PAUSE."""
        await self._print(cmd.PAUSE, {"command": "pause", "param": ""})

    async def resume(self) -> None:
        """Resume a paused job; returns when the printer runs again."""
        await self._print(cmd.RESUME, {"command": "resume", "param": ""})

    async def stop(self) -> None:
        """Cancel the job; returns when the printer reports it is no longer running."""
        await self._print(cmd.STOP, {"command": "stop", "param": ""})

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target with ``M104``; returns when the report shows it."""
        target = round(check_temperature(celsius, self.descriptor.limits.nozzle_max, "nozzle"))
        body = {"command": "gcode_line", "param": f"M104 S{target}\n"}
        await self._print(cmd.nozzle_target(target), body)

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target with ``M140``; returns when the report shows it."""
        target = round(check_temperature(celsius, self.descriptor.limits.bed_max, "bed"))
        await self._print(
            cmd.bed_target(target), {"command": "gcode_line", "param": f"M140 S{target}\n"}
        )

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set a fan with ``M106 P<1-3> S<0-255>``; returns when the report shows it.

        The printer reports fans in 16 levels: the confirmation allows half a level.
        """
        kind = self._check_fan(fan, percent)
        line = f"M106 P{_FAN_INDEX[kind]} S{fan_pwm(percent)}\n"
        command = cmd.fan(kind, percent, self.descriptor.fan_step)
        await self._print(command, {"command": "gcode_line", "param": line})

    async def set_light(self, on: bool) -> None:
        """Switch the chamber light(s); works even on authorization-control firmware."""
        mode = "on" if on else "off"

        async def send() -> Ack:
            for node in self._spec.lights[1:]:
                self._publish({"system": _ledctrl(str(next(self._sequence)), node, mode)})
            body = _ledctrl("", self._spec.lights[0], mode)
            del body["sequence_id"]
            return self._send("system", body)

        await self._run(cmd.light(on, needs_control=False), send)

    async def send_gcode(self, gcode: str) -> None:
        """Send G-code lines (``print.gcode_line``); returns on the printer's ack."""
        if not gcode.strip():
            raise PrinterCommandError("send_gcode: empty G-code", reason=Reason.INVALID_VALUE)
        line = gcode if gcode.endswith("\n") else f"{gcode}\n"
        await self._print(cmd.GCODE, {"command": "gcode_line", "param": line})

    async def set_speed_preset(self, preset: str) -> None:
        """Switch to silent / standard / sport / ludicrous (``print.print_speed``)."""
        if preset not in SPEED_PRESETS:
            raise PrinterCommandError(
                f"speed preset must be one of {', '.join(SPEED_PRESETS)}",
                reason=Reason.INVALID_VALUE,
            )
        level = SPEED_PRESETS.index(preset) + 1
        body = {"command": "print_speed", "param": str(level)}
        await self._print(cmd.speed_preset(preset), body)

    # ------------------------------------------------------------ cameras

    async def open_stream(self) -> str | None:
        """X1/H2: an RTSP URL on this host's loopback, relayed over verified TLS.

        The printer's own RTSPS URL is never handed out: a player that does
        not verify the printer's certificate would send the access code to
        whoever answers (see ``rtsps``). P1/A1 have no stream: None.
        """
        if self._camera.kind is not CameraKind.RTSPS:
            return None
        if self._relay is None:
            self._relay = RtspsRelay(
                self.host,
                self.rtsps_port,
                ssl_context=await self._ssl_context(),
                server_hostname=self.serial,
                timeout=self.request_timeout,
            )
        port = await self._relay.start()
        code = quote(self._access_code, safe="")
        return f"rtsp://{USERNAME}:{code}@127.0.0.1:{port}/streaming/live/1"

    async def close(self) -> None:
        """Close the connection and the camera relay; never raises."""
        relay, self._relay = self._relay, None
        if relay is not None:
            await relay.stop()
        await super().close()

    async def snapshot(self) -> bytes:
        """One JPEG from the P1/A1 camera socket (opened for this frame and closed)."""
        if self._camera.kind is CameraKind.RTSPS:
            raise self._unsupported(f"still camera ({RTSPS_PORT} streams RTSPS only)")
        if self._camera.kind is not CameraKind.JPEG_SOCKET:
            raise self._unsupported("camera printfarm can read")
        return await fetch_frame(
            self.host,
            self.camera_port,
            access_code=self._access_code,
            ssl_context=await self._ssl_context(),
            server_hostname=self.serial,
            timeout=self.request_timeout,
            limit=MAX_IMAGE_BYTES,
        )


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
