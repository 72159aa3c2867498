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
import logging
from typing import Any

from ..base import PrinterClient
from ..coerce import decode_object
from ..exceptions import (
    PrinterConnectionError,
    PrinterProtocolError,
    Reason,
)
from ..httpx_compat import httpx
from ..limits import MAX_MESSAGE_BYTES
from ..models import (
    CameraInfo,
    CameraKind,
    Capabilities,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintStatus,
)
from ..plumbing import Owned
from .descriptor import DEFAULT_POLL_INTERVAL, DEFAULT_PORT, DEFAULT_USERNAME, DESCRIPTOR
from .parse import (
    LinkCamera,
    LinkInfo,
    LinkJob,
    LinkStatus,
    VersionInfo,
    parse_cameras,
    parse_info,
    parse_job,
    parse_status,
    parse_version,
)
from .status import DEFAULT_ERROR_TEXT, map_status
from .transport import PrusaLinkHttp, Reply

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_PORT",
    "DEFAULT_USERNAME",
    "PrusaLinkClientBase",
    "PrusaLinkFirmwareTooOldError",
]


class PrusaLinkFirmwareTooOldError(PrinterProtocolError):
    """The printer speaks only the legacy API (no ``/api/v1``): firmware update needed.

    ``reason`` is ``firmware_too_old`` so the HA layer can raise a repair issue.
    """

    default_reason = Reason.FIRMWARE_TOO_OLD


class PrusaLinkClientBase(PrinterClient):
    """Polls one PrusaLink printer: connection and state."""

    kind = PrinterKind.PRUSALINK
    descriptor = DESCRIPTOR

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
        poll_interval: float | None = None,
        fast_poll_interval: float | None = None,
        request_timeout: float = 10.0,
        stale_after: float | None = None,
    ) -> None:
        """Keep the credentials; ``client`` is used (and never closed) when given."""
        super().__init__(
            host,
            request_timeout=request_timeout,
            poll_interval=poll_interval,
            stale_after=stale_after,
        )
        self.port = port or DEFAULT_PORT
        if fast_poll_interval is not None:
            self.fast_poll_interval = fast_poll_interval
        self._model = model
        self._httpx = Owned(client, self._new_httpx, _close_httpx, lambda c: c.is_closed)
        self._username = username or DEFAULT_USERNAME
        self._password = password
        self._api_key = api_key
        self._link: PrusaLinkHttp | None = None
        self._poll_lock = asyncio.Lock()
        self._transport_lock = asyncio.Lock()
        self._job_id: int | None = None
        self._job: LinkJob | None = None
        #: The short and display names of the last job seen (what a reprint looks for).
        self.last_job_names: tuple[str, ...] = ()
        self.version: VersionInfo | None = None
        self.link_info: LinkInfo | None = None
        self.cameras: tuple[LinkCamera, ...] = ()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the printer."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -------------------------------------------------------------- lifecycle

    async def _new_httpx(self) -> httpx.AsyncClient:
        # built in a worker thread: httpx loads the CA bundle when it is
        # created, which is blocking file I/O the event loop must not do
        return await asyncio.to_thread(httpx.AsyncClient, timeout=self.request_timeout)

    async def _transport(self) -> PrusaLinkHttp:
        if self._closing:
            raise PrinterConnectionError(f"the client for {self.host} is closed")
        async with self._transport_lock:
            if self._link is None:
                self._link = PrusaLinkHttp(
                    self.base_url,
                    username=self._username,
                    password=self._password,
                    api_key=self._api_key,
                    client=await self._httpx.get(),
                    timeout=self.request_timeout,
                )
            return self._link

    async def _open(self) -> None:
        try:
            await self._load_identity()
        except PrusaLinkFirmwareTooOldError:
            self._set_notice(PrinterNotice.FIRMWARE_TOO_OLD, active=True)
            raise
        self._set_notice(PrinterNotice.FIRMWARE_TOO_OLD, active=False)
        await self._poll()

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
            print_files=True,  # /api/v1/files lists a storage, POST to a file starts it
            reprint=True,  # the last job seen, found again in the file list
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

    async def _probe(self) -> None:
        await self._poll()

    async def _teardown(self) -> None:
        self._link = None
        await self._httpx.close()

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
        return parse_job(decode_object(reply.body, "/api/v1/job"))

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
        if file is not None and (file.name or file.display_name):
            self.last_job_names = tuple(n for n in (file.name, file.display_name) if n)
        progress = status.job.progress if status.job is not None else None
        self.details.update(
            fan_hotend_rpm=status.fan_hotend,
            fan_print_rpm=status.fan_print,
            flow=status.flow,
            job_id=self._job_id,
        )
        if self.link_info is not None:
            self.details.update(
                nozzle_diameter=self.link_info.nozzle_diameter, mmu=self.link_info.mmu
            )
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


def _thumbnail_ref(job: LinkJob | None) -> str | None:
    if job is None or job.file is None:
        return None
    return job.file.thumbnail_ref or job.file.icon_ref


async def _close_httpx(client: httpx.AsyncClient) -> None:
    await client.aclose()
