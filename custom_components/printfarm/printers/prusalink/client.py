"""PrusaLink v1 client (Buddy firmware and Prusa-Link on a Raspberry Pi).

PrusaLink has no push channel, so the listen loop polls ``/api/v1/status``
every ``poll_interval`` seconds, faster for a while after a command, and
reads ``/api/v1/job`` whenever the job id changes (file name, thumbnail).
Pause, resume and stop address the job by id; the printer answers 404 when
the id is not the current job (reported as ``job_changed`` after re-reading
the job, never retried on a job the user did not see) and 409 when the state
does not allow it (``not_printing`` or ``conflict``). Every command returns
only once the polled state confirms it.

Temperature targets and the feed rate exist only on Prusa-Link (Pi), through
the OctoPrint-style ``/api/printer/{tool,bed,printhead}`` routes it kept;
Buddy firmware has no such API, so there they raise
:class:`PrinterNotSupportedError` and the capabilities say so. Prusa-Link's
camera (``/api/v1/cameras/snap``) gives ``snapshot()``; Buddy has none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..base import MAX_IMAGE_BYTES, MAX_MESSAGE_BYTES, PrinterClient, check_temperature
from ..exceptions import (
    PrinterCommandError,
    PrinterConnectionError,
    PrinterNotSupportedError,
    PrinterProtocolError,
)
from ..httpx_compat import httpx
from ..models import (
    ACTIVE_STATUSES,
    CameraInfo,
    CameraKind,
    Capabilities,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintStatus,
)
from .parse import (
    LinkCamera,
    LinkInfo,
    LinkJob,
    LinkStatus,
    VersionInfo,
    decode_object,
    parse_cameras,
    parse_info,
    parse_job,
    parse_status,
    parse_version,
)
from .status import DEFAULT_ERROR_TEXT, map_status
from .transport import PrusaLinkHttp, Reply

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 80
DEFAULT_USERNAME = "maker"
#: Seconds between polls when nothing is happening.
DEFAULT_POLL_INTERVAL = 5.0
#: Seconds between polls right after a command, for ``FAST_POLL_WINDOW`` seconds.
FAST_POLL_INTERVAL = 1.0
FAST_POLL_WINDOW = 30.0
#: Prusa-Link's own limits for the legacy control routes (its ``LimitsMK3``).
NOZZLE_MAX = 305.0
BED_MAX = 125.0
SPEED_MIN, SPEED_MAX = 10, 999


class PrusaLinkFirmwareTooOldError(PrinterProtocolError):
    """The printer speaks only the legacy API (no ``/api/v1``): firmware update needed.

    ``reason`` is ``"firmware_too_old"`` so the HA layer can raise a repair issue.
    """

    def __init__(self, message: str) -> None:
        """Always the same reason."""
        super().__init__(message, reason="firmware_too_old")


class PrusaLinkClient(PrinterClient):
    """Polls one PrusaLink printer and controls its job."""

    kind = PrinterKind.PRUSALINK

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        username: str | None = DEFAULT_USERNAME,
        password: str | None = None,
        api_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        model: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        fast_poll_interval: float = FAST_POLL_INTERVAL,
        request_timeout: float = 10.0,
    ) -> None:
        """Keep the credentials; ``client`` is used (and never closed) when given."""
        super().__init__(host, request_timeout=request_timeout)
        self.port = port or DEFAULT_PORT
        self.poll_interval = poll_interval
        self.fast_poll_interval = fast_poll_interval
        #: Seconds a command waits for the state that confirms it (None: the base default).
        self.confirm_timeout: float | None = None
        self._model = model
        self._given_client = client
        self._own_client: httpx.AsyncClient | None = None
        self._username = username or DEFAULT_USERNAME
        self._password = password
        self._api_key = api_key
        self._http: PrusaLinkHttp | None = None
        self._poll_lock = asyncio.Lock()
        self._transport_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._fast_until = 0.0
        self._job_id: int | None = None
        self._job: LinkJob | None = None
        self.version: VersionInfo | None = None
        self.link_info: LinkInfo | None = None
        self.cameras: tuple[LinkCamera, ...] = ()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the printer."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -------------------------------------------------------------- lifecycle

    async def _transport(self) -> PrusaLinkHttp:
        if self._closing:
            raise PrinterConnectionError(f"the client for {self.host} is closed")
        async with self._transport_lock:
            if self._http is None:
                client = self._given_client
                if client is None:
                    # built in a worker thread: httpx loads the CA bundle when it is
                    # created, which is blocking file I/O the event loop must not do
                    client = await asyncio.to_thread(
                        httpx.AsyncClient, timeout=self.request_timeout
                    )
                    self._own_client = client
                self._http = PrusaLinkHttp(
                    self.base_url,
                    username=self._username,
                    password=self._password,
                    api_key=self._api_key,
                    client=client,
                    timeout=self.request_timeout,
                )
            return self._http

    async def _open(self) -> None:
        try:
            try:
                await self._load_identity()
            except PrusaLinkFirmwareTooOldError:
                self._set_notice(PrinterNotice.FIRMWARE_TOO_OLD, active=True)
                raise
            self._set_notice(PrinterNotice.FIRMWARE_TOO_OLD, active=False)
            await self._poll()
        except BaseException:
            await self._teardown()
            raise

    async def _load_identity(self) -> None:
        version = parse_version(await self._get_json("/api/version"))
        try:
            info = parse_info(await self._get_json("/api/v1/info"))
        except _NotFoundError as err:
            raise PrusaLinkFirmwareTooOldError(
                "the printer has no PrusaLink v1 API (/api/v1/info); update its firmware"
            ) from err
        self.version, self.link_info = version, info
        self.cameras = await self._load_cameras()
        hostname = version.hostname or info.hostname
        unique_id = info.serial or hostname or self.host
        name = info.name or hostname or f"Prusa {self.host}"
        firmware = version.firmware or (f"PrusaLink {version.server}" if version.server else None)
        self._info = PrinterInfo(
            kind=self.kind,
            unique_id=unique_id,
            name=name,
            model=self._model or version.model,
            serial=info.serial,
            firmware=firmware,
            host=self.host,
            configuration_url=self.base_url,
        )
        has_camera = any(camera.connected for camera in self.cameras)
        # Prusa-Link keeps OctoPrint's control routes (tool/bed targets, feed rate);
        # Buddy firmware has no way to set them over the API
        controls = version.is_prusa_link
        self._capabilities = Capabilities(
            camera=CameraKind.SNAPSHOT if has_camera else CameraKind.NONE,
            temperature_control=controls,
            speed_factor=controls,
            thumbnail=True,
        )
        self._camera = (
            CameraInfo(
                kind=CameraKind.SNAPSHOT,
                snapshot_url=str((await self._transport()).url("/api/v1/cameras/snap")),
            )
            if has_camera
            else CameraInfo()
        )

    async def _load_cameras(self) -> tuple[LinkCamera, ...]:
        """Cameras of Prusa-Link on a Pi; Buddy firmware has no camera API (404)."""
        try:
            return parse_cameras(await self._get_json("/api/v1/cameras"))
        except (PrinterProtocolError, PrinterConnectionError) as err:
            # 404 on Buddy; anything odd here must not keep the printer itself offline
            _LOGGER.debug("%s: no camera API (%s)", self.host, err)
            return ()

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            fast = loop.time() < self._fast_until
            interval = self.fast_poll_interval if fast else self.poll_interval
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._poll()
            except PrinterProtocolError as err:
                # a bad answer is not a dead printer: keep the last good state
                _LOGGER.debug("%s: ignoring a bad answer: %s", self.host, err)
                continue
            self.backoff.reset()

    async def _teardown(self) -> None:
        self._http = None
        client, self._own_client = self._own_client, None
        if client is not None:
            await client.aclose()

    # ---------------------------------------------------------------- polling

    async def refresh(self) -> PrinterState:
        """Poll the printer now and return the new state."""
        await self._poll()
        return self.state

    async def _poll(self) -> None:
        async with self._poll_lock:
            status = parse_status(await self._get_json("/api/v1/status"))
            job_id = status.job.id if status.job is not None else None
            if job_id is None:
                self._job = None
            elif self._job is None or self._job.id != job_id:
                self._job = await self._load_job()
            self._job_id = job_id
            self._apply(status)

    async def _load_job(self) -> LinkJob | None:
        reply = await self._request("GET", "/api/v1/job", MAX_MESSAGE_BYTES)
        if reply.status == 204:
            return None
        if reply.status != 200:
            raise PrinterProtocolError(f"GET /api/v1/job answered {reply.status}")
        return parse_job(decode_object(reply.body, "job"))

    def _apply(self, status: LinkStatus) -> None:
        has_job = status.job is not None
        mapped = map_status(status.state, has_job=has_job)
        if mapped is None:
            _LOGGER.debug("%s: unknown printer state %r", self.host, status.state)
            known = self._state.status
            mapped = PrintStatus.IDLE if known is PrintStatus.OFFLINE else known
        error = None
        if mapped is PrintStatus.ERROR:
            error = status.message or DEFAULT_ERROR_TEXT.get(status.state, "Printer error")
        job = self._job if self._job is not None and self._job.id == self._job_id else None
        file = job.file if job is not None else None
        progress = status.job.progress if status.job is not None else None
        extra: dict[str, Any] = {
            "fan_hotend_rpm": status.fan_hotend,
            "fan_print_rpm": status.fan_print,
            "flow": status.flow,
            "job_id": self._job_id,
        }
        if self.link_info is not None:
            extra["nozzle_diameter"] = self.link_info.nozzle_diameter
            extra["mmu"] = self.link_info.mmu
        self._update_state(
            connected=True,
            status=mapped,
            native_status=status.state,
            progress=progress,
            remaining_s=status.job.time_remaining if status.job is not None else None,
            elapsed_s=status.job.time_printing if status.job is not None else None,
            job=(file.display_name or file.name) if file is not None else None,
            nozzle_temp=status.temp_nozzle,
            nozzle_target=status.target_nozzle,
            bed_temp=status.temp_bed,
            bed_target=status.target_bed,
            error=error,
            speed_factor=status.speed,
            thumbnail_id=_thumbnail_ref(job),
            extra=extra,
        )

    # --------------------------------------------------------------- commands

    async def pause(self) -> None:
        """Pause the job; returns when the printer reports paused."""
        await self._job_command("PUT", "pause", "pause")
        await self._confirm(lambda s: s.status is PrintStatus.PAUSED, "pause", self.confirm_timeout)

    async def resume(self) -> None:
        """Resume the job; returns when the printer reports printing again."""
        await self._job_command("PUT", "resume", "resume")
        await self._confirm(
            lambda s: s.status in (PrintStatus.PRINTING, PrintStatus.PREPARING),
            "resume",
            self.confirm_timeout,
        )

    async def stop(self) -> None:
        """Cancel the job; returns when the job is no longer under way."""
        await self._job_command("DELETE", None, "stop", allow_attention=True)
        await self._confirm(
            lambda s: s.status not in ACTIVE_STATUSES and s.native_status != "ATTENTION",
            "stop",
            self.confirm_timeout,
        )

    async def _job_command(
        self, method: str, action: str | None, what: str, *, allow_attention: bool = False
    ) -> None:
        if not self._state.connected:
            raise PrinterConnectionError(f"{what}: printer {self.host} is offline")
        # the printer also lets a job waiting for attention be stopped
        if not (allow_attention and self._state.native_status == "ATTENTION"):
            self._require_active(what)
        job_id = self._job_id
        if job_id is None:
            await self._poll()
            job_id = self._job_id
            if job_id is None:
                raise PrinterCommandError(f"{what}: the printer has no job", reason="not_printing")
        path = f"/api/v1/job/{job_id}" + (f"/{action}" if action else "")
        reply = await self._request(method, path, MAX_MESSAGE_BYTES)
        if reply.status in (200, 204):
            self._fast_until = asyncio.get_running_loop().time() + FAST_POLL_WINDOW
            self._wake.set()
            return
        if reply.status == 404:
            await self._poll()
            raise PrinterCommandError(
                f"{what}: job {job_id} is no longer the current job (now {self._job_id})",
                reason="job_changed",
            )
        if reply.status == 409:
            await self._poll()
            reason = "conflict" if self._state.status in ACTIVE_STATUSES else "not_printing"
            raise PrinterCommandError(
                f"{what}: the printer refused in state {self._state.native_status}",
                reason=reason,
            )
        raise PrinterCommandError(f"{what}: the printer answered {reply.status}")

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target (Prusa-Link only); returns when the printer reports it."""
        self._require_control("nozzle target", self._capabilities.temperature_control)
        target = _plain(check_temperature(celsius, NOZZLE_MAX, "nozzle target"))
        body = {"command": "target", "targets": {"tool0": target}}
        await self._control("/api/printer/tool", body, "nozzle target")
        await self._confirm(
            lambda s: s.nozzle_target is not None and abs(s.nozzle_target - target) < 0.5,
            "nozzle target",
            self.confirm_timeout,
        )

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target (Prusa-Link only); returns when the printer reports it."""
        self._require_control("bed target", self._capabilities.temperature_control)
        target = _plain(check_temperature(celsius, BED_MAX, "bed target"))
        await self._control("/api/printer/bed", {"command": "target", "target": target}, "bed")
        await self._confirm(
            lambda s: s.bed_target is not None and abs(s.bed_target - target) < 0.5,
            "bed target",
            self.confirm_timeout,
        )

    async def set_speed_factor(self, percent: int) -> None:
        """Set the feed-rate override (Prusa-Link only); returns when the printer reports it."""
        self._require_control("speed factor", self._capabilities.speed_factor)
        if isinstance(percent, bool) or not isinstance(percent, int):
            raise PrinterCommandError(
                f"speed: {percent!r} is not a percentage", reason="invalid_value"
            )
        if not SPEED_MIN <= percent <= SPEED_MAX:
            raise PrinterCommandError(
                f"speed: {percent} % is outside {SPEED_MIN}-{SPEED_MAX} %", reason="invalid_value"
            )
        body = {"command": "speed", "factor": percent}
        await self._control("/api/printer/printhead", body, "speed factor")
        await self._confirm(lambda s: s.speed_factor == percent, "speed", self.confirm_timeout)

    def _require_control(self, what: str, supported: bool) -> None:
        if not supported:
            raise PrinterNotSupportedError(
                f"{what}: PrusaLink on Buddy firmware has no API to set it"
            )
        if not self._state.connected:
            raise PrinterConnectionError(f"{what}: printer {self.host} is offline")

    async def _control(self, path: str, body: dict[str, Any], what: str) -> None:
        """POST one of Prusa-Link's legacy control routes (204 on success)."""
        reply = await self._request("POST", path, MAX_MESSAGE_BYTES, body)
        if reply.status in (200, 204):
            self._fast_until = asyncio.get_running_loop().time() + FAST_POLL_WINDOW
            self._wake.set()
            return
        if reply.status == 400:
            raise PrinterCommandError(
                f"{what}: the printer refused the value", reason="invalid_value"
            )
        if reply.status == 404:
            raise PrinterNotSupportedError(f"{what}: this printer has no {path}")
        if reply.status == 409:
            raise PrinterCommandError(f"{what}: not possible in this state", reason="conflict")
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
            raise PrinterCommandError("the camera has not taken a photo yet", reason="no_frame")
        raise PrinterCommandError(
            f"camera snapshot answered {reply.status}", reason="camera_unavailable"
        )

    # ------------------------------------------------------------------ HTTP

    async def _request(
        self, method: str, path: str, max_bytes: int, body: dict[str, Any] | None = None
    ) -> Reply:
        transport = await self._transport()
        return await transport.request(method, path, max_bytes=max_bytes, body=body)

    async def _get_json(self, path: str) -> dict[str, Any]:
        reply = await self._request("GET", path, MAX_MESSAGE_BYTES)
        if reply.status == 404:
            raise _NotFoundError(path)
        if reply.status != 200:
            raise _UnexpectedStatusError(f"GET {path} answered {reply.status}")
        return decode_object(reply.body, path)


class _NotFoundError(PrinterProtocolError):
    """A 404 for an endpoint the client needs."""


class _UnexpectedStatusError(PrinterProtocolError):
    """An answer whose status the endpoint never gives."""


def _plain(value: float) -> float | int:
    """215.0 -> 215: Prusa-Link writes the number into G-code as it comes."""
    return int(value) if value.is_integer() else value


def _thumbnail_ref(job: LinkJob | None) -> str | None:
    if job is None or job.file is None:
        return None
    return job.file.thumbnail_ref or job.file.icon_ref
