"""OctoPrint client: REST polling (``X-Api-Key``), optional SockJS push.

The base heartbeat polls ``/api/job`` and ``/api/printer`` every
``poll_interval`` seconds (fast for a while after a command; slow while the
push socket is alive), and ``_listen`` keeps OctoPrint's raw SockJS websocket
for pushes when ``use_push`` is set and the server allows it. ``/api/printer``
answers 409 while OctoPrint has no serial connection to the printer: that is
status ``OFFLINE`` with ``connected=True`` (the server is reachable) and
polling goes on. Commands, images and app keys are in ``control``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from ..base import PrinterClient
from ..coerce import as_dict, as_text, decode_json
from ..exceptions import (
    PrinterAuthError,
    PrinterConnectionError,
    PrinterError,
    PrinterProtocolError,
    Reason,
)
from ..http import Reply, request
from ..models import Capabilities, FanKind, PrinterInfo, PrinterKind, PrinterState
from .camera import camera_info, resolve_url
from .descriptor import DEFAULT_PORT, DESCRIPTOR
from .flavour import detect_flavour
from .merge import Reading, state_changes
from .parse import (
    ConnectionInfo,
    Heater,
    JobReport,
    VersionInfo,
    parse_connection,
    parse_job,
    parse_printer,
    parse_version,
    parse_webcam,
)
from .push import PushSession

_LOGGER = logging.getLogger(__name__)

_JSON = dict[str, Any]
_UDN = re.compile(r"<UDN>\s*uuid:([0-9a-fA-F-]{8,64})\s*</UDN>")


class OctoPrintClientBase(PrinterClient):
    """Talk to one OctoPrint server (and the printer behind it): connection and state."""

    kind = PrinterKind.OCTOPRINT
    descriptor = DESCRIPTOR

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
        poll_interval: float | None = None,
        fast_poll_interval: float | None = None,
        stale_after: float | None = None,
        use_push: bool = True,
    ) -> None:
        """Store how to reach OctoPrint; nothing is opened before ``connect()``."""
        super().__init__(
            host,
            session=session,
            request_timeout=request_timeout,
            poll_interval=poll_interval,
            stale_after=stale_after,
        )
        self.port = port
        if fast_poll_interval is not None:
            self.fast_poll_interval = fast_poll_interval
        self._api_key = api_key
        base_path = path if path.endswith("/") else path + "/"
        self.base_url = URL.build(
            scheme="https" if ssl else "http", host=host, port=port, path=base_path
        )
        self._unique_id = unique_id
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
        # bumped around every command: a poll that overlapped one may carry the
        # state from before it, and is dropped instead of undoing the confirmation
        self._epoch = 0
        self._in_flight = 0
        self._push: PushSession | None = None
        self._job_key: tuple[str | None, str | None] | None = None
        self._thumbnail_url: str | None = None
        self._thumbnail_for: str | None = None

    def __repr__(self) -> str:
        """Never show the API key."""
        return f"OctoPrintClient({self.base_url!s})"

    # ------------------------------------------------------------------ HTTP

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self._api_key} if self._api_key else {}

    async def _fetch(
        self, method: str, path: str, *, json: _JSON | None = None, auth: bool = True
    ) -> Reply:
        """One HTTP call, read whole and bounded; 401/403 and transport errors raise."""
        reply = await request(
            await self._session(),
            method,
            self.base_url.join(URL(path)),
            timeout=self.request_timeout,
            what=f"OctoPrint at {self.host}: {method} {path}",
            headers=self._headers() if auth else {},
            json=json,
        )
        if reply.status in (401, 403):
            raise PrinterAuthError(
                f"OctoPrint at {self.host} refused the API key (HTTP {reply.status})"
            )
        return reply

    async def _request(
        self, method: str, path: str, *, json: _JSON | None = None, auth: bool = True
    ) -> tuple[int, Any]:
        """One API call: ``(status, parsed JSON body or None)``.

        401/403 raise PrinterAuthError, transport failures
        PrinterConnectionError, a 2xx body that is not JSON
        PrinterProtocolError. Other statuses are returned to the caller.
        """
        reply = await self._fetch(method, path, json=json, auth=auth)
        if not reply.body.strip():
            return reply.status, None
        try:
            return reply.status, decode_json(reply.body, path)
        except PrinterProtocolError:
            if 200 <= reply.status < 300:
                raise
            return reply.status, None

    async def _get_json(self, path: str) -> Any:
        status, body = await self._request("GET", path)
        if status != 200:
            raise PrinterProtocolError(f"GET {path}: HTTP {status}")
        return body

    async def _read_uuid(self) -> str | None:
        """The instance UUID the discovery plugin publishes (None when it is disabled)."""
        with contextlib.suppress(PrinterProtocolError, PrinterConnectionError):
            reply = await self._fetch("GET", "plugin/discovery/discovery.xml")
            if reply.status == 200:
                match = _UDN.search(reply.body.decode("utf-8", "replace"))
                if match:
                    return match.group(1).lower()
        return None

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
                    server=version.server or as_text(server.get("version")),
                    text=version.text,
                    safemode=as_text(server.get("safemode")),
                )
        return version

    async def _open(self) -> None:
        version = await self.identify()
        flavour = detect_flavour(version)
        if flavour != "octoprint":
            raise PrinterProtocolError(
                f"{self.host} is {flavour}, not OctoPrint", reason=Reason.NOT_OCTOPRINT
            )
        self.version = version
        self.connection_info = parse_connection(await self._get_json("api/connection"))
        settings: object = {}
        with contextlib.suppress(PrinterProtocolError):
            settings = await self._get_json("api/settings")
        self._camera = camera_info(parse_webcam(settings), self.base_url)
        name = as_text(as_dict(as_dict(settings).get("appearance")).get("name"))
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
            print_files=True,
            reprint=True,  # the last job's file stays selected after it ends
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
            await self._session(),
            self.base_url,
            self._headers(),
            self.request_timeout,
            on_current=self._on_push,
        )
        try:
            await push.open()
        except PrinterError as err:
            _LOGGER.debug("No push from %s (%s); polling only", self.host, err)
            await push.close()
            return
        self._push = push

    async def _listen(self) -> None:
        """Read pushes while the socket lives; when it dies, poll fast and retry it later.

        A dead push socket never ends the connection: polling goes on.
        """
        while True:
            push = self._push
            if push is not None:
                try:
                    await push.run(self.push_silence_timeout)
                except PrinterError as err:
                    _LOGGER.debug("Push from %s ended (%s); polling", self.host, err)
                self._push = None
                await push.close()
                self._wake.set()  # poll at once
            if not self.use_push:
                await asyncio.Event().wait()
            await asyncio.sleep(self.push_retry_interval)
            await self._open_push()

    def _probe_interval(self) -> float:
        """Slow while the push socket is alive (the poll only checks consistency)."""
        interval = super()._probe_interval()
        if self._push is not None and interval >= self.poll_interval:
            return max(self.poll_interval, self.push_poll_interval)
        return interval

    async def _teardown(self) -> None:
        push, self._push = self._push, None
        if push is not None:
            await push.close()

    # ---------------------------------------------------------------- state

    async def refresh(self) -> PrinterState:
        """Read ``/api/job`` and ``/api/printer`` now and return the new state."""
        epoch = self._epoch
        (job_status, job_body), (printer_status, printer_body) = await asyncio.gather(
            self._request("GET", "api/job"), self._request("GET", "api/printer")
        )
        if epoch != self._epoch:
            self._wake.set()  # overlapped a command: stale, read again at once
            return self._state
        if job_status != 200:
            raise PrinterProtocolError(f"/api/job: HTTP {job_status}")
        job = parse_job(job_body)
        if printer_status == 409:
            # OctoPrint is up, the printer is not connected to it
            self._apply(Reading.printer_absent(job, printer_body))
        elif printer_status == 200:
            self._apply(Reading.from_printer(job, parse_printer(printer_body)))
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
        """A push ``current`` message arrived (it proves nothing about lag: polls do)."""
        if self._in_flight:
            return  # may predate the command being sent; the poll after it decides
        self._apply(Reading.from_push(text, flags, job, temps, self._state))

    def _apply(self, reading: Reading) -> None:
        """Merge one poll (or push) into the normalized state."""
        key = (reading.job.file_origin, reading.job.file_path)
        file_changed = self._job_key is not None and key != self._job_key
        self._job_key = key
        changes = state_changes(reading, self._state.status, file_changed)
        changes["thumbnail_id"] = self._thumbnail_url
        self._update_state(**changes)

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
                url = resolve_url(as_text(as_dict(body).get("thumbnail")), self.base_url)
        self._thumbnail_url = url
        self._update_state(thumbnail_id=self._thumbnail_url)
