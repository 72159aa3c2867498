"""Moonraker commands: print control, heaters, fans, light, G-code, images.

Moonraker acknowledges a command with ``"ok"`` even when Klipper ignores it,
so each one runs through the base engine and counts as done only when the
pushed state shows it.
"""

from __future__ import annotations

import contextlib
from urllib.parse import quote

from .. import commands as cmd
from ..commands import Command, Need, check_percent, check_temperature, fan_pwm
from ..engine import Ack
from ..exceptions import PrinterCommandError, PrinterConnectionError, Reason
from ..http import fetch_image
from ..limits import MAX_IMAGE_BYTES
from ..models import FanKind, PrintFile
from .camera import same_origin
from .client import MoonrakerClientBase
from .parse import parse_file_list, parse_last_job
from .rpc import MoonrakerRpcError

#: Words of Moonraker's and Klipper's answers for a file that is not there.
_MISSING = ("unable to open", "not found", "does not exist", "no such file")

EMERGENCY_STOP = Command(
    name="emergency stop", needs=Need.CONNECTED, confirm=lambda s: s.native_status == "shutdown"
)


class MoonrakerClient(MoonrakerClientBase):
    """A Klipper printer reached through its Moonraker API server."""

    async def _send(self, method: str, params: dict[str, object] | None = None) -> Ack:
        await self._call(method, params)
        return None

    async def _script(self, script: str) -> Ack:
        try:
            await self._call("printer.gcode.script", {"script": script})
        except MoonrakerRpcError as err:
            raise PrinterCommandError(str(err), reason=Reason.REJECTED) from err
        return None

    async def pause(self) -> None:
        """Pause the print; confirmed by ``print_stats.state == paused``."""
        await self._run(cmd.PAUSE, lambda: self._send("printer.print.pause"))

    async def resume(self) -> None:
        """Resume a paused print; confirmed by ``print_stats.state == printing``."""
        await self._run(cmd.RESUME, lambda: self._send("printer.print.resume"))

    async def stop(self) -> None:
        """Cancel the print; confirmed once no job is under way."""
        await self._run(cmd.STOP, lambda: self._send("printer.print.cancel"))

    # ---------------------------------------------------------------- files

    async def _list_files(self) -> list[PrintFile]:
        """``server.files.list`` of the ``gcodes`` root (subfolders included)."""
        return parse_file_list(await self._call("server.files.list", {"root": "gcodes"}))

    async def _send_start(self, path: str) -> Ack:
        """``printer.print.start``; Klipper's "unable to open file" is ``file_not_found``."""
        try:
            await self._call("printer.print.start", {"filename": path})
        except MoonrakerRpcError as err:
            text = str(err).lower()
            reason = Reason.REJECTED
            if any(word in text for word in _MISSING):
                reason = Reason.FILE_NOT_FOUND
            elif "busy" in text or "in progress" in text:
                reason = Reason.BUSY  # Klipper: "SD busy"
            raise PrinterCommandError(str(err), reason=reason) from err
        return None

    async def _last_job_file(self) -> str | None:
        """The newest job of ``server.history.list``; ``file_not_found`` once it is deleted."""
        last = parse_last_job(
            await self._call("server.history.list", {"limit": 1, "order": "desc"})
        )
        if last.filename is not None and not last.exists:
            raise PrinterCommandError(
                f"reprint: {last.filename} is no longer on the printer",
                reason=Reason.FILE_NOT_FOUND,
            )
        return last.filename

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the extruder target with SET_HEATER_TEMPERATURE."""
        target = check_temperature(celsius, self.descriptor.limits.nozzle_max, "nozzle target")
        line = f"SET_HEATER_TEMPERATURE HEATER=extruder TARGET={target:g}"
        await self._run(cmd.nozzle_target(target), lambda: self._script(line))

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target with SET_HEATER_TEMPERATURE."""
        target = check_temperature(celsius, self.descriptor.limits.bed_max, "bed target")
        line = f"SET_HEATER_TEMPERATURE HEATER=heater_bed TARGET={target:g}"
        await self._run(cmd.bed_target(target), lambda: self._script(line))

    async def set_speed_factor(self, percent: int) -> None:
        """Feed-rate override (M220), in percent."""
        limits = self.descriptor.limits
        check_percent(percent, limits.speed_min, limits.speed_max, "speed factor")
        await self._run(cmd.speed_factor(percent), lambda: self._script(f"M220 S{percent}"))

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set a fan, confirmed by its reported ``speed``.

        The part-cooling ``[fan]`` takes M106/M107; a ``[fan_generic]`` takes
        ``SET_FAN_SPEED FAN=<name> SPEED=<0-1>``.
        """
        kind = self._check_fan(fan, percent)
        generic = {
            FanKind.AUXILIARY: self._layout.aux_fan,
            FanKind.CHAMBER: self._layout.chamber_fan,
        }.get(kind)
        if generic is not None:
            line = f"SET_FAN_SPEED FAN={generic.partition(' ')[2].strip()} SPEED={percent / 100:g}"
        else:
            line = f"M106 S{fan_pwm(percent)}" if percent else "M107"
        command = cmd.fan(kind, percent, self.descriptor.fan_step)
        await self._run(command, lambda: self._script(line))

    async def set_light(self, on: bool) -> None:
        """Switch the configured light (``output_pin`` or LED named like a light)."""
        light = self._layout.light
        if light is None:
            await super().set_light(on)
            return
        prefix, _, name = light.partition(" ")
        value = 1 if on else 0
        if prefix == "output_pin":
            line = f"SET_PIN PIN={name} VALUE={value}"
        else:
            line = f"SET_LED LED={name} RED={value} GREEN={value} BLUE={value} WHITE={value}"
        await self._run(cmd.light(on), lambda: self._script(line))

    async def send_gcode(self, gcode: str) -> None:
        """Run G-code through ``printer.gcode.script``; Klipper errors raise."""
        if not gcode.strip():
            raise PrinterCommandError("empty G-code", reason=Reason.INVALID_VALUE)
        await self._run(cmd.GCODE, lambda: self._script(gcode))

    async def emergency_stop(self) -> None:
        """Emergency stop: Klippy shuts down until a firmware restart."""
        await self._run(EMERGENCY_STOP, lambda: self._send("printer.emergency_stop"))

    async def firmware_restart(self) -> None:
        """FIRMWARE_RESTART; returns once Klippy is ready again."""
        self._require(Command(name="firmware restart", needs=Need.CONNECTED))
        was_ready = self._state.control_available
        with contextlib.suppress(PrinterConnectionError):
            # Moonraker may drop the reply when Klippy goes away mid-call.
            await self._call("printer.firmware_restart")
        if was_ready:
            # From ready, "ready" only confirms once Klippy has been away.
            with contextlib.suppress(TimeoutError):
                await self.wait_for_state(lambda s: not s.control_available, 10.0)
        restarted = Command(
            name="firmware restart",
            needs=Need.NOTHING,
            confirm=lambda s: s.control_available
            and s.native_status not in (None, "shutdown", "error"),
            timeout=60.0,
        )
        await self._run(restarted, _nothing)

    # ------------------------------------------------------------- images

    async def _get_image(self, url: str) -> bytes:
        headers = self._headers() if same_origin(url, self.base_url) else {}
        return await fetch_image(
            await self._session(),
            url,
            headers=headers,
            timeout=self.request_timeout,
            limit=MAX_IMAGE_BYTES,
        )

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


async def _nothing() -> Ack:
    return None
