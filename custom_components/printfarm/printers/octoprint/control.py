"""OctoPrint commands and images.

A command is a POST that OctoPrint answers 204; 409 says the printer's state
does not allow it (the reason is read from OctoPrint's text). Every command
then waits for the polled (or pushed) state that confirms it; polling is
fast meanwhile.
"""

from __future__ import annotations

from urllib.parse import quote

from yarl import URL

from .. import commands as cmd
from ..commands import Command, check_temperature, fan_pwm
from ..engine import Ack
from ..exceptions import (
    PrinterCommandError,
    PrinterNotSupportedError,
    Reason,
)
from ..http import fetch_image
from ..limits import MAX_IMAGE_BYTES
from ..models import FanKind, PrintFile
from .appkeys import AppKeysMixin
from .client import OctoPrintClientBase
from .parse import parse_error, parse_files

_JSON = dict[str, object]


def conflict_reason(text: str | None) -> Reason:
    """The reason behind an OctoPrint 409 text."""
    lowered = (text or "").lower()
    if "not operational" in lowered:
        return Reason.PRINTER_OFFLINE
    if "neither printing nor paused" in lowered or "not printing" in lowered:
        return Reason.NOT_PRINTING
    if "not paused" in lowered:
        return Reason.NOT_PAUSED
    if "currently printing" in lowered or "already printing" in lowered:
        return Reason.BUSY
    return Reason.CONFLICT


class OctoPrintClient(AppKeysMixin, OctoPrintClientBase):
    """Talk to one OctoPrint server (and the printer behind it)."""

    async def _command(self, path: str, payload: _JSON, what: str) -> Ack:
        """POST a command; 204/200 is success, 409 and others are PrinterCommandError."""
        self._epoch += 1
        self._in_flight += 1
        try:
            status, body = await self._request("POST", path, json=payload)
        finally:
            self._in_flight -= 1
            self._epoch += 1
        if status in (200, 204):
            return None
        text = parse_error(body) or f"HTTP {status}"
        if status == 409:
            raise PrinterCommandError(f"{what}: {text}", reason=conflict_reason(text))
        if status == 404 and path.startswith("api/files/"):
            raise PrinterCommandError(f"{what}: {text}", reason=Reason.FILE_NOT_FOUND)
        if status == 404:
            raise PrinterNotSupportedError(f"{what}: OctoPrint has no {path}")
        raise PrinterCommandError(f"{what}: OctoPrint answered {text}")

    async def _do(self, command: Command, path: str, payload: _JSON) -> None:
        await self._run(command, lambda: self._command(path, payload, command.name))

    async def pause(self) -> None:
        """Pause the job; returns when OctoPrint reports ``Paused``."""
        await self._do(cmd.PAUSE, "api/job", {"command": "pause", "action": "pause"})

    async def resume(self) -> None:
        """Resume a paused job; returns when OctoPrint prints again."""
        await self._do(cmd.RESUME, "api/job", {"command": "pause", "action": "resume"})

    async def stop(self) -> None:
        """Cancel the job; returns when OctoPrint reports it stopped."""
        await self._do(cmd.STOP, "api/job", {"command": "cancel"})

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the target of ``tool0``; returns when OctoPrint reports it."""
        target = check_temperature(celsius, self.descriptor.limits.nozzle_max, "nozzle target")
        payload: _JSON = {"command": "target", "targets": {"tool0": target}}
        await self._do(cmd.nozzle_target(target), "api/printer/tool", payload)

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target; returns when OctoPrint reports it."""
        target = check_temperature(celsius, self.descriptor.limits.bed_max, "bed target")
        payload: _JSON = {"command": "target", "target": target}
        await self._do(cmd.bed_target(target), "api/printer/bed", payload)

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Part-cooling fan with ``M106 S<0-255>`` (``M107`` for off).

        OctoPrint reports no fan speeds, so there is no state to confirm by:
        this returns once OctoPrint has accepted the command for the printer.
        """
        kind = self._check_fan(fan, percent)
        line = f"M106 S{fan_pwm(percent)}" if percent else "M107"
        command = cmd.fan(kind, percent, self.descriptor.fan_step, reported=False)
        await self._do(command, "api/printer/command", {"commands": [line]})

    async def send_gcode(self, gcode: str) -> None:
        """Send one or more lines of G-code through ``/api/printer/command``."""
        lines = [line.strip() for line in gcode.splitlines() if line.strip()]
        if not lines:
            raise PrinterCommandError("send_gcode: no G-code given", reason=Reason.INVALID_VALUE)
        await self._do(cmd.GCODE, "api/printer/command", {"commands": lines})

    # ---------------------------------------------------------------- files

    async def _list_files(self) -> list[PrintFile]:
        """The local machine-code files (SD-card files cannot be listed without a scan)."""
        return parse_files(await self._get_json("api/files/local?recursive=true"))

    async def _send_start(self, path: str) -> Ack:
        """Select the local file and print it: ``POST /api/files/local/<path>``."""
        payload: _JSON = {"command": "select", "print": True}
        return await self._command(f"api/files/local/{quote(path)}", payload, "start print")

    async def _last_job_file(self) -> str | None:
        """The file OctoPrint still has selected from the last job (local files only)."""
        origin, path = self._job_key or (None, None)
        return path if origin == "local" else None

    # --------------------------------------------------------------- images

    async def _fetch_image(self, url: str) -> bytes:
        target = URL(url)
        # the key goes only to OctoPrint itself, never to a separate camera host
        same_origin = target.origin() == self.base_url.origin()
        return await fetch_image(
            await self._session(),
            target,
            headers=self._headers() if same_origin else {},
            timeout=self.request_timeout,
            limit=MAX_IMAGE_BYTES,
        )

    async def snapshot(self) -> bytes:
        """One JPEG from the webcam configured in OctoPrint."""
        url = self._camera.snapshot_url
        if url is None:
            raise self._unsupported("snapshot URL")
        return await self._fetch_image(url)

    async def thumbnail(self) -> bytes | None:
        """The current file's slicer thumbnail, when a thumbnail plugin provides one."""
        if self._thumbnail_url is None:
            return None
        try:
            return await self._fetch_image(self._thumbnail_url)
        except PrinterCommandError:
            return None
