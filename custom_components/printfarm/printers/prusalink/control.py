"""PrusaLink commands and images.

Pause, resume and stop address the job by id; the printer answers 404 when
the id is not the current job (reported as ``job_changed`` after re-reading
the job, never retried on a job the user did not see) and 409 when the state
does not allow it (``not_printing`` or ``conflict``). Temperature targets and
the feed rate exist only on Prusa-Link (Pi), through the OctoPrint-style
``/api/printer/{tool,bed,printhead}`` routes it kept. Every command returns
only once the polled state confirms it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from .. import commands as cmd
from ..commands import Command, Need, check_percent, check_temperature
from ..engine import Ack
from ..exceptions import PrinterCommandError, PrinterNotSupportedError, Reason
from ..limits import MAX_IMAGE_BYTES, MAX_MESSAGE_BYTES
from ..models import ACTIVE_STATUSES, CameraKind, PrintFile
from .client import PrusaLinkClientBase, _NotFoundError, _thumbnail_ref
from .parse import parse_folder, parse_storages

_LOGGER = logging.getLogger(__name__)


def _files_url(path: str) -> str:
    """The ``/api/v1/files`` URL of a storage or a file path (``/usb/BENCHY~1.GCO``)."""
    return "/api/v1/files" + quote(path)


class PrusaLinkClient(PrusaLinkClientBase):
    """Polls one PrusaLink printer and controls its job."""

    # ---------------------------------------------------------------- files

    async def _list_files(self) -> list[PrintFile]:
        """The print files at the top of every available storage (``/api/v1/files``)."""
        files: list[PrintFile] = []
        for storage in parse_storages(await self._get_json("/api/v1/storage")):
            try:
                folder = await self._get_json(_files_url(storage))
            except _NotFoundError:  # a stick pulled between the two requests
                continue
            files.extend(parse_folder(folder, storage))
        return files

    async def _last_job_file(self) -> str | None:
        """The stored file of the last job seen, by its short or display name."""
        names = self.last_job_names
        if not names:
            return None
        for file in await self.list_files():
            if file.path.rsplit("/", 1)[-1] in names or file.name in names:
                return file.path
        raise PrinterCommandError(
            f"reprint: {names[-1]} is no longer on {self.host}", reason=Reason.FILE_NOT_FOUND
        )

    async def _send_start(self, path: str) -> Ack:
        """``POST /api/v1/files/<storage>/<name>``: 204 starts it, 404 no such file, 409 busy."""
        reply = await self._request("POST", _files_url(path), MAX_MESSAGE_BYTES)
        if reply.status in (200, 201, 204):
            return None
        reasons = {404: Reason.FILE_NOT_FOUND, 409: Reason.BUSY}
        raise PrinterCommandError(
            f"start print: {self.host} answered {reply.status}",
            reason=reasons.get(reply.status, Reason.REJECTED),
        )

    # --------------------------------------------------------------- commands

    async def pause(self) -> None:
        """Pause the job; returns when the printer reports paused."""
        await self._run(cmd.PAUSE, lambda: self._job_command("PUT", "pause", "pause"))

    async def resume(self) -> None:
        """Resume the job; returns when the printer reports printing again."""
        await self._run(cmd.RESUME, lambda: self._job_command("PUT", "resume", "resume"))

    async def stop(self) -> None:
        """Cancel the job; returns when the job is no longer under way.

        The printer also lets a job waiting for attention be stopped.
        """
        attention = self._state.native_status == "ATTENTION"
        stop = Command(
            name="stop",
            needs=Need.CONNECTED | Need.CONTROL | (Need.NOTHING if attention else Need.ACTIVE_JOB),
            confirm=lambda s: s.status not in ACTIVE_STATUSES and s.native_status != "ATTENTION",
        )
        await self._run(stop, lambda: self._job_command("DELETE", None, "stop"))

    async def _job_command(self, method: str, action: str | None, what: str) -> Ack:
        job_id = self._job_id
        if job_id is None:
            await self._poll()
            job_id = self._job_id
            if job_id is None:
                raise PrinterCommandError(
                    f"{what}: the printer has no job", reason=Reason.NOT_PRINTING
                )
        path = f"/api/v1/job/{job_id}" + (f"/{action}" if action else "")
        reply = await self._request(method, path, MAX_MESSAGE_BYTES)
        if reply.status in (200, 204):
            return None
        if reply.status == 404:
            await self._poll()
            raise PrinterCommandError(
                f"{what}: job {job_id} is no longer the current job (now {self._job_id})",
                reason=Reason.JOB_CHANGED,
            )
        if reply.status == 409:
            await self._poll()
            active = self._state.status in ACTIVE_STATUSES
            raise PrinterCommandError(
                f"{what}: the printer refused in state {self._state.native_status}",
                reason=Reason.CONFLICT if active else Reason.NOT_PRINTING,
            )
        raise PrinterCommandError(f"{what}: the printer answered {reply.status}")

    def _require_controls(self, what: str, supported: bool) -> None:
        if not supported:
            raise PrinterNotSupportedError(
                f"{what}: PrusaLink on Buddy firmware has no API to set it"
            )

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target (Prusa-Link only); returns when the printer reports it."""
        self._require_controls("nozzle target", self._capabilities.temperature_control)
        limit = self.descriptor.limits.nozzle_max
        target = _plain(check_temperature(celsius, limit, "nozzle target"))
        body = {"command": "target", "targets": {"tool0": target}}
        await self._run(
            cmd.nozzle_target(target),
            lambda: self._control("/api/printer/tool", body, "nozzle target"),
        )

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target (Prusa-Link only); returns when the printer reports it."""
        self._require_controls("bed target", self._capabilities.temperature_control)
        target = _plain(check_temperature(celsius, self.descriptor.limits.bed_max, "bed target"))
        body = {"command": "target", "target": target}
        await self._run(
            cmd.bed_target(target),
            lambda: self._control("/api/printer/bed", body, "bed target"),
        )

    async def set_speed_factor(self, percent: int) -> None:
        """Set the feed-rate override (Prusa-Link only); returns when the printer reports it."""
        self._require_controls("speed factor", self._capabilities.speed_factor)
        limits = self.descriptor.limits
        check_percent(percent, limits.speed_min, limits.speed_max, "speed")
        body = {"command": "speed", "factor": percent}
        await self._run(
            cmd.speed_factor(percent),
            lambda: self._control("/api/printer/printhead", body, "speed factor"),
        )

    async def _control(self, path: str, body: dict[str, Any], what: str) -> Ack:
        """POST one of Prusa-Link's legacy control routes (204 on success)."""
        reply = await self._request("POST", path, MAX_MESSAGE_BYTES, body)
        if reply.status in (200, 204):
            return None
        if reply.status == 400:
            raise PrinterCommandError(
                f"{what}: the printer refused the value", reason=Reason.INVALID_VALUE
            )
        if reply.status == 404:
            raise PrinterNotSupportedError(f"{what}: this printer has no {path}")
        if reply.status == 409:
            raise PrinterCommandError(f"{what}: not possible in this state", reason=Reason.CONFLICT)
        raise PrinterCommandError(f"{what}: the printer answered {reply.status}")

    # ----------------------------------------------------------------- images

    async def thumbnail(self) -> bytes | None:
        """The current job's thumbnail (PNG), following the job's own reference."""
        ref = _thumbnail_ref(self._job)
        if ref is None:
            return None
        reply = await self._request("GET", ref, MAX_IMAGE_BYTES)
        if reply.status == 200 and reply.body:
            return reply.body
        _LOGGER.debug("%s: thumbnail %s answered %s", self.host, ref, reply.status)
        return None

    async def snapshot(self) -> bytes:
        """The latest photo of the default camera (Prusa-Link on a Pi)."""
        if self._capabilities.camera is CameraKind.NONE:
            return await super().snapshot()
        reply = await self._request("GET", "/api/v1/cameras/snap", MAX_IMAGE_BYTES)
        if reply.status == 200 and reply.body:
            return reply.body
        if reply.status == 204:
            raise PrinterCommandError(
                "the camera has not taken a photo yet", reason=Reason.CAMERA_UNAVAILABLE
            )
        raise PrinterCommandError(
            f"camera snapshot answered {reply.status}", reason=Reason.CAMERA_UNAVAILABLE
        )


def _plain(value: float) -> float | int:
    """215.0 -> 215: Prusa-Link writes the number into G-code as it comes."""
    return int(value) if value.is_integer() else value
