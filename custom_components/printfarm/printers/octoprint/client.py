"""OctoPrint client: REST polling (``X-Api-Key``), optional SockJS push, app keys.

The client polls ``/api/job`` and ``/api/printer`` every ``poll_interval``
seconds (``fast_poll_interval`` for a while after a command), and listens
to OctoPrint's raw SockJS websocket for pushes when ``use_push`` is set and
the server allows it. ``/api/printer`` answers 409 while OctoPrint has no
serial connection to the printer: that is reported as status ``OFFLINE``
with ``connected=True`` (the server is reachable) and polling goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
import re
import time
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

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
    PrinterNotSupportedError,
    PrinterProtocolError,
)
from ..models import (
    CameraInfo,
    CameraKind,
    Capabilities,
    FanKind,
    PrinterInfo,
    PrinterKind,
    PrinterState,
    PrintStatus,
)
from .appkeys import AppKeysMixin
from .camera import camera_info
from .flavour import detect_flavour
from .merge import Reading, state_changes
from .parse import (
    ConnectionInfo,
    Heater,
    JobReport,
    VersionInfo,
    as_dict,
    as_str,
    parse_connection,
    parse_error,
    parse_job,
    parse_printer,
    parse_version,
    parse_webcam,
)
from .push import PushSession

_LOGGER = logging.getLogger(__name__)

#: OctoPi (and Home Assistant's own integration) serve OctoPrint on port 80.
DEFAULT_PORT = 80
MAX_NOZZLE_C = 350.0
MAX_BED_C = 150.0
_JSON = dict[str, Any]
_UDN = re.compile(r"<UDN>\s*uuid:([0-9a-fA-F-]{8,64})\s*</UDN>")


def conflict_reason(text: str | None) -> str:
    """Machine-readable reason for an OctoPrint 409 text."""
    lowered = (text or "").lower()
    if "not operational" in lowered:
        return "printer_offline"
    if "neither printing nor paused" in lowered or "not printing" in lowered:
        return "not_printing"
    if "not paused" in lowered:
        return "not_paused"
    return "conflict"


class OctoPrintClient(AppKeysMixin, PrinterClient):
    """Talk to one OctoPrint server (and the printer behind it)."""

    kind = PrinterKind.OCTOPRINT

    def __init__(
        self,
        host: str,
        *,
        api_key: str | None,
        port: int = DEFAULT_PORT,
        session: aiohttp.ClientSession | None = None,
        ssl: bool = False,
        path: str = "/",
        unique_id: str | None = None,
        request_timeout: float = 10.0,
        poll_interval: float = 5.0,
        fast_poll_interval: float = 0.5,
        use_push: bool = True,
    ) -> None:
        """Store how to reach OctoPrint; nothing is opened before ``connect()``."""
        super().__init__(host, request_timeout=request_timeout)
        self.port = port
        self._api_key = api_key
        self._session = session
        self._own_session = False
        base_path = path if path.endswith("/") else path + "/"
        self.base_url = URL.build(
            scheme="https" if ssl else "http", host=host, port=port, path=base_path
        )
        self._unique_id = unique_id
        #: Seconds between status polls when nothing is happening.
        self.poll_interval = poll_interval
        #: Seconds between polls right after a command (until it is confirmed).
        self.fast_poll_interval = fast_poll_interval
        #: How long after a command polling stays fast.
        self.fast_poll_window = 15.0
        #: Listen to OctoPrint's websocket when it allows it (else poll only).
        self.use_push = use_push
        #: Seconds without any push message before the socket counts as dead.
        self.push_silence_timeout = 30.0
        #: Seconds between consistency polls while push is alive.
        self.push_poll_interval = 30.0
        #: Seconds before a dead push socket is tried again.
        self.push_retry_interval = 60.0
        self.version: VersionInfo | None = None
        self.connection_info: ConnectionInfo | None = None
        self._fast_until = 0.0
        # bumped around every command: a poll that overlapped one may carry the
        # state from before it, and is dropped instead of undoing the confirmation
        self._epoch = 0
        self._in_flight = 0
        self._kick = asyncio.Event()
        self._push: PushSession | None = None
        self._job_key: tuple[str | None, str | None] | None = None
        self._thumbnail_url: str | None = None
        self._thumbnail_for: str | None = None

    def __repr__(self) -> str:
        """Never show the API key."""
        return f"OctoPrintClient({self.base_url!s})"

    # ------------------------------------------------------------------ HTTP

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self._api_key} if self._api_key else {}

    async def _fetch(
        self, method: str, path: str, *, json: _JSON | None = None, auth: bool = True
    ) -> tuple[int, bytes]:
        """One HTTP call: ``(status, raw body)``; 401/403 and transport errors raise."""
        url = self.base_url.join(URL(path))
        try:
            async with self._get_session().request(
                method,
                url,
                json=json,
                headers=self._headers() if auth else {},
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
                allow_redirects=False,
            ) as resp:
                if resp.status in (401, 403):
                    raise PrinterAuthError(
                        f"OctoPrint at {self.host} refused the API key (HTTP {resp.status})"
                    )
                return resp.status, await self._read_limited(resp, MAX_MESSAGE_BYTES)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise PrinterConnectionError(
                f"OctoPrint at {self.host}: {type(err).__name__}: {err}"
            ) from err

    async def _request(
        self, method: str, path: str, *, json: _JSON | None = None, auth: bool = True
    ) -> tuple[int, Any]:
        """One API call: ``(status, parsed JSON body or None)``.

        401/403 raise PrinterAuthError, transport failures
        PrinterConnectionError, a 2xx body that is not JSON
        PrinterProtocolError. Other statuses are returned to the caller.
        """
        status, raw = await self._fetch(method, path, json=json, auth=auth)
        if not raw.strip():
            return status, None
        try:
            body = jsonlib.loads(raw)
        except ValueError as err:
            if 200 <= status < 300:
                _LOGGER.debug("%s %s from %s: body is not JSON", method, path, self.host)
                raise PrinterProtocolError(f"{path}: the answer is not JSON") from err
            body = None
        return status, body

    async def _read_uuid(self) -> str | None:
        """The instance UUID the discovery plugin publishes (None when it is disabled)."""
        with contextlib.suppress(PrinterProtocolError, PrinterConnectionError):
            status, raw = await self._fetch("GET", "plugin/discovery/discovery.xml")
            if status == 200:
                match = _UDN.search(raw.decode("utf-8", "replace"))
                if match:
                    return match.group(1).lower()
        return None

    @staticmethod
    async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
        if resp.content_length is not None and resp.content_length > limit:
            raise PrinterProtocolError(f"answer of {resp.content_length} bytes is too large")
        data = bytearray()
        async for chunk in resp.content.iter_chunked(65536):
            data += chunk
            if len(data) > limit:
                raise PrinterProtocolError(f"answer larger than {limit} bytes")
        return bytes(data)

    async def _get_json(self, path: str) -> Any:
        status, body = await self._request("GET", path)
        if status != 200:
            raise PrinterProtocolError(f"GET {path}: HTTP {status} {parse_error(body) or ''}")
        return body

    async def _command(self, path: str, payload: _JSON, what: str) -> None:
        """POST a command; 204/200 is success, 409 and others are PrinterCommandError."""
        self._epoch += 1
        self._in_flight += 1
        try:
            status, body = await self._request("POST", path, json=payload)
        finally:
            self._in_flight -= 1
            self._epoch += 1
        if status in (200, 204):
            self._fast_until = time.monotonic() + self.fast_poll_window
            self._kick.set()
            return
        text = parse_error(body) or f"HTTP {status}"
        if status == 409:
            raise PrinterCommandError(f"{what}: {text}", reason=conflict_reason(text))
        if status == 404:
            raise PrinterNotSupportedError(f"{what}: OctoPrint has no {path}")
        raise PrinterCommandError(f"{what}: OctoPrint answered {text}", reason="rejected")

    # ------------------------------------------------------------- lifecycle

    async def identify(self) -> VersionInfo:
        """Read ``/api/version`` (and ``/api/server``) and return them."""
        version = parse_version(await self._get_json("api/version"))
        with contextlib.suppress(PrinterProtocolError):
            status, body = await self._request("GET", "api/server")
            if status == 200:
                server = as_dict(body)
                version = VersionInfo(
                    api=version.api,
                    server=version.server or as_str(server.get("version")),
                    text=version.text,
                    safemode=as_str(server.get("safemode")),
                )
        return version

    async def _open(self) -> None:
        try:
            await self._open_unguarded()
        except BaseException:
            await self._teardown()
            raise

    async def _open_unguarded(self) -> None:
        version = await self.identify()
        flavour = detect_flavour(version)
        if flavour != "octoprint":
            raise PrinterProtocolError(
                f"{self.host} is {flavour}, not OctoPrint ({version.text!r})",
                reason="not_octoprint",
            )
        self.version = version
        self.connection_info = parse_connection(await self._get_json("api/connection"))
        settings: object = {}
        with contextlib.suppress(PrinterProtocolError):
            settings = await self._get_json("api/settings")
        self._camera = camera_info(parse_webcam(settings), self.base_url)
        name = as_str(as_dict(as_dict(settings).get("appearance")).get("name"))
        if self._unique_id is None:
            self._unique_id = await self._read_uuid()
        await self.refresh()
        if self.use_push:
            await self._open_push()
        self._capabilities = Capabilities(
            camera=self._camera.kind,
            chamber_temperature=self._state.chamber_temp is not None,
            temperature_control=True,
            gcode=True,
            # M106 reaches any printer's part fan; OctoPrint just never reports its speed
            controllable_fans=(FanKind.PART_COOLING,),
            thumbnail=True,
        )
        self._info = PrinterInfo(
            kind=self.kind,
            unique_id=self._unique_id or f"{self.host}:{self.port}",
            name=name or f"OctoPrint {self.host}",
            model=self.connection_info.profile_name or self.connection_info.profile,
            firmware=version.text,
            host=self.host,
            configuration_url=str(self.base_url),
        )

    async def _open_push(self) -> None:
        """Start the SockJS push session; on any failure stay with polling."""
        push = PushSession(
            self._get_session(),
            self.base_url,
            self._headers(),
            self.request_timeout,
            on_current=self._on_push,
        )
        try:
            await push.open()
        except (PrinterConnectionError, PrinterProtocolError) as err:
            _LOGGER.debug("No push from %s (%s); polling only", self.host, err)
            await push.close()
            return
        self._push = push

    def _start_push_task(self) -> asyncio.Task[None] | None:
        if self._push is None:
            return None
        task = asyncio.create_task(
            self._push.run(self.push_silence_timeout), name=f"octoprint push {self.host}"
        )
        task.add_done_callback(lambda _: self._kick.set())  # poll at once when push dies
        return task

    async def _listen(self) -> None:
        """Poll (and read pushes) until the connection is lost.

        While the push socket is alive, polling slows to ``push_poll_interval``
        (a consistency check); when it dies, polling takes over and the socket
        is tried again every ``push_retry_interval`` seconds.
        """
        push_task = self._start_push_task()
        push_retry_at = time.monotonic() + self.push_retry_interval
        try:
            while True:
                if push_task is not None and push_task.done():
                    exc = None if push_task.cancelled() else push_task.exception()
                    _LOGGER.debug("Push from %s ended (%s); polling", self.host, exc)
                    push_task = None
                    await self._teardown()
                    push_retry_at = time.monotonic() + self.push_retry_interval
                if push_task is None and self.use_push and time.monotonic() >= push_retry_at:
                    await self._open_push()
                    push_task = self._start_push_task()
                    push_retry_at = time.monotonic() + self.push_retry_interval
                if time.monotonic() < self._fast_until:
                    interval = self.fast_poll_interval
                elif push_task is not None:
                    interval = max(self.poll_interval, self.push_poll_interval)
                else:
                    interval = self.poll_interval
                self._kick.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await self._kick.wait()
                try:
                    await self.refresh()
                except PrinterProtocolError as err:
                    _LOGGER.debug("Ignoring a bad answer from %s: %s", self.host, err)
                    continue
                self.backoff.reset()
        finally:
            if push_task is not None:
                push_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await push_task

    async def _teardown(self) -> None:
        push, self._push = self._push, None
        if push is not None:
            await push.close()

    async def close(self) -> None:
        """Stop polling and close the session if this client created it."""
        await super().close()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
            self._own_session = False

    # ---------------------------------------------------------------- state

    async def refresh(self) -> PrinterState:
        """Read ``/api/job`` and ``/api/printer`` now and return the new state."""
        epoch = self._epoch
        (job_status, job_body), (printer_status, printer_body) = await asyncio.gather(
            self._request("GET", "api/job"), self._request("GET", "api/printer")
        )
        if epoch != self._epoch:
            self._kick.set()  # overlapped a command: stale, read again at once
            return self._state
        if job_status != 200:
            raise PrinterProtocolError(f"/api/job: HTTP {job_status}")
        job = parse_job(job_body)
        if printer_status == 409:
            # OctoPrint is up, the printer is not connected to it
            self._apply(Reading(job, None, {}, parse_error(printer_body), None, None, None))
        elif printer_status == 200:
            report = parse_printer(printer_body)
            self._apply(
                Reading(
                    job,
                    report.text,
                    report.flags,
                    report.error,
                    report.tool0,
                    report.bed,
                    report.chamber,
                )
            )
        else:
            raise PrinterProtocolError(f"/api/printer: HTTP {printer_status}")
        await self._update_thumbnail(job)
        return self._state

    def _on_push(
        self,
        text: str | None,
        flags: dict[str, bool],
        job: JobReport,
        temps: tuple[Heater | None, Heater | None, Heater | None],
    ) -> None:
        """A push ``current`` message arrived."""
        if self._in_flight:
            return  # may predate the command being sent; the poll after it decides
        tool0, bed, chamber = temps
        keep = self._state
        # a push carries only the temperatures measured since the last one: keep the rest
        self._apply(
            Reading(
                job=job,
                printer_text=text,
                flags=flags,
                printer_error=job.error,
                tool0=tool0 or _heater(keep.nozzle_temp, keep.nozzle_target),
                bed=bed or _heater(keep.bed_temp, keep.bed_target),
                chamber=chamber or _heater(keep.chamber_temp, None),
            )
        )

    def _apply(self, reading: Reading) -> None:
        """Merge one poll (or push) into the normalized state."""
        key = (reading.job.file_origin, reading.job.file_path)
        file_changed = self._job_key is not None and key != self._job_key
        self._job_key = key
        changes = state_changes(reading, self._state.status, file_changed)
        self._update_state(**changes, thumbnail_id=self._thumbnail_url)

    async def _update_thumbnail(self, job: JobReport) -> None:
        """Look up the job file's ``thumbnail`` (slicer thumbnail plugins) once per file."""
        if job.file_path is None or job.file_origin is None:
            return
        key = f"{job.file_origin}/{job.file_path}"
        if self._thumbnail_for == key:
            return
        self._thumbnail_for = key
        url = None
        with contextlib.suppress(PrinterProtocolError):
            status, body = await self._request("GET", f"api/files/{quote(key, safe='/')}")
            if status == 200:
                url = as_str(as_dict(body).get("thumbnail"))
        self._thumbnail_url = str(self.base_url.join(URL(url))) if url else None
        self._update_state(thumbnail_id=self._thumbnail_url)

    # ------------------------------------------------------------- commands

    def _require_printer(self, what: str) -> None:
        if not self._state.connected:
            raise PrinterConnectionError(f"{what}: OctoPrint at {self.host} is unreachable")
        if not self._state.control_available:
            raise PrinterCommandError(
                f"{what}: OctoPrint has no connection to the printer", reason="printer_offline"
            )

    async def pause(self) -> None:
        """Pause the job; returns when OctoPrint reports ``Paused``."""
        self._require_printer("pause")
        self._require_active("pause")
        if self._state.status is PrintStatus.PAUSED:
            return
        await self._command("api/job", {"command": "pause", "action": "pause"}, "pause")
        await self._confirm(lambda s: s.status is PrintStatus.PAUSED, "pause")

    async def resume(self) -> None:
        """Resume a paused job; returns when OctoPrint prints again."""
        self._require_printer("resume")
        self._require_active("resume")
        await self._command("api/job", {"command": "pause", "action": "resume"}, "resume")
        await self._confirm(
            lambda s: s.status in (PrintStatus.PRINTING, PrintStatus.FINISHED), "resume"
        )

    async def stop(self) -> None:
        """Cancel the job; returns when OctoPrint reports it stopped."""
        self._require_printer("stop")
        self._require_active("stop")
        await self._command("api/job", {"command": "cancel"}, "stop")
        await self._confirm(
            lambda s: s.status
            not in (PrintStatus.PRINTING, PrintStatus.PAUSED, PrintStatus.PREPARING),
            "stop",
        )

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the target of ``tool0``; returns when OctoPrint reports it."""
        target = check_temperature(celsius, MAX_NOZZLE_C, "nozzle target")
        self._require_printer("nozzle target")
        await self._command(
            "api/printer/tool",
            {"command": "target", "targets": {"tool0": target}},
            "nozzle target",
        )
        await self._confirm(lambda s: _close(s.nozzle_target, target), "nozzle target")

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target; returns when OctoPrint reports it."""
        target = check_temperature(celsius, MAX_BED_C, "bed target")
        self._require_printer("bed target")
        await self._command(
            "api/printer/bed", {"command": "target", "target": target}, "bed target"
        )
        await self._confirm(lambda s: _close(s.bed_target, target), "bed target")

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Part-cooling fan with ``M106 S<0-255>`` (``M107`` for off).

        OctoPrint reports no fan speeds, so there is no state to confirm by:
        this returns once OctoPrint has accepted the command for the printer.
        """
        self._check_fan(fan, percent)
        self._require_printer("fan speed")
        line = f"M106 S{fan_pwm(percent)}" if percent else "M107"
        await self._command("api/printer/command", {"commands": [line]}, "fan speed")

    async def send_gcode(self, gcode: str) -> None:
        """Send one or more lines of G-code through ``/api/printer/command``."""
        lines = [line.strip() for line in gcode.splitlines() if line.strip()]
        if not lines:
            raise PrinterCommandError("send_gcode: no G-code given", reason="invalid_value")
        self._require_printer("send_gcode")
        await self._command("api/printer/command", {"commands": lines}, "send_gcode")

    # --------------------------------------------------------------- images

    async def _fetch_image(self, url: str) -> bytes:
        target = URL(url)
        same_origin = target.origin() == self.base_url.origin()
        try:
            async with self._get_session().get(
                target,
                # the key goes only to OctoPrint itself, never to a separate camera host
                headers=self._headers() if same_origin else {},
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            ) as resp:
                if resp.status != 200:
                    raise PrinterCommandError(
                        f"image at {target.path}: HTTP {resp.status}", reason="unavailable"
                    )
                if not resp.content_type.startswith("image/"):
                    raise PrinterProtocolError(
                        f"{target.path} is {resp.content_type}, not an image"
                    )
                return await self._read_limited(resp, MAX_IMAGE_BYTES)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise PrinterConnectionError(f"camera of {self.host}: {err}") from err

    async def snapshot(self) -> bytes:
        """One JPEG from the webcam configured in OctoPrint."""
        url = self._camera.snapshot_url
        if url is None:
            raise PrinterNotSupportedError(f"OctoPrint at {self.host} has no snapshot URL")
        return await self._fetch_image(url)

    async def thumbnail(self) -> bytes | None:
        """The current file's slicer thumbnail, when a thumbnail plugin provides one."""
        if self._thumbnail_url is None:
            return None
        try:
            return await self._fetch_image(self._thumbnail_url)
        except PrinterCommandError:
            return None


def _heater(actual: float | None, target: float | None) -> Heater | None:
    if actual is None and target is None:
        return None
    return Heater(actual=actual, target=target)


def _close(value: float | None, wanted: float) -> bool:
    return value is not None and abs(value - wanted) < 0.5


__all__ = ["DEFAULT_PORT", "CameraInfo", "CameraKind", "OctoPrintClient", "conflict_reason"]
