"""Elegoo SDCP v3 client: one websocket per printer, shared by everything.

The printer accepts only 4-5 websocket clients and drops one it has not heard
from for about 60 s, so this client opens exactly one socket. The base
heartbeat's probe is a status request (Cmd 0) every ``poll_interval`` seconds,
answered by an ack and a status push: that round trip is both the keep-alive
the printer needs and the proof that the state is current. Status,
attributes, commands and the camera switch all go over that socket; replies
are matched to requests by ``RequestID``. Acks only say the printer accepted a
request: every command is confirmed by the status that follows (``control``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from typing import Any
import uuid

import aiohttp

from ..base import PrinterClient
from ..exceptions import (
    PrinterCommandError,
    PrinterConnectionError,
    PrinterProtocolError,
    Reason,
)
from ..http import WebSocket, connect_websocket
from ..limits import MAX_PATH_LENGTH
from ..models import (
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintStatus,
)
from .changes import TicksClock, details, identity, status_changes
from .const import (
    DEFAULT_PORT,
    DEFAULT_VIDEO_PORT,
    FROM_LAN_CLIENT,
    VIDEO_PATH,
    WEBSOCKET_PATH,
    Cmd,
    ack_reason,
)
from .descriptor import DESCRIPTOR
from .parse import (
    AttributesReport,
    ErrorReport,
    NoticeReport,
    Report,
    ResponseReport,
    SdcpParseError,
    StatusReport,
    parse_message,
)
from .status import Flavor

_LOGGER = logging.getLogger(__name__)

#: Handshake answers of a server that is full rather than wrong.
_BUSY_HTTP_STATUSES = frozenset({429, 503})


def _no_free_slot(message: str) -> PrinterConnectionError:
    return PrinterConnectionError(message, reason=Reason.NO_FREE_SLOT)


class ElegooClientBase(PrinterClient):
    """Client of one Elegoo SDCP v3 printer: connection and state."""

    kind = PrinterKind.ELEGOO
    descriptor = DESCRIPTOR

    def __init__(
        self,
        host: str,
        *,
        port: int = DEFAULT_PORT,
        video_port: int = DEFAULT_VIDEO_PORT,
        mainboard_id: str | None = None,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 10.0,
        keepalive_interval: float | None = None,
        stale_after: float | None = None,
        confirm_timeout: float | None = None,
        close_timeout: float = 2.0,
    ) -> None:
        """Configure the client; ``connect()`` opens the websocket."""
        super().__init__(
            host,
            session=session,
            request_timeout=request_timeout,
            poll_interval=keepalive_interval,
            stale_after=stale_after,
        )
        self.port = port
        self.video_port = video_port
        if confirm_timeout is not None:
            self.confirm_timeout = confirm_timeout
        self.close_timeout = close_timeout
        self._mainboard_id = mainboard_id or ""
        self._ws: WebSocket | None = None
        self._acks = self._new_pending()  # RequestID -> ResponseReport
        self._pushes = self._new_pending()  # ("status"|"attributes", n) -> None
        #: The file name of the last job the printer reported (None: none seen yet).
        self.last_job_name: str | None = None
        self._push_ids = iter(range(1 << 62))
        self._error_code: int | None = None  # from sdcp/error, kept while the job is failed
        self._send_lock = asyncio.Lock()
        self._attributes: AttributesReport | None = None
        self._opening_status: StatusReport | None = None
        self._opening = False
        self._flavor: Flavor | None = None
        self._ticks = TicksClock()
        self._rgb: tuple[int, ...] = (255, 255, 255)

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

    async def _open(self) -> None:
        """Connect; say whether the printer turned us away for want of a free slot.

        The supervisor keeps retrying with backoff either way; the notice
        clears on the next attempt that gets in (or fails for another reason).
        """
        full = False
        try:
            await self._open_socket()
        except PrinterConnectionError as err:
            full = err.reason is Reason.NO_FREE_SLOT
            raise
        finally:
            self._set_notice(PrinterNotice.CONNECTION_SLOTS_EXHAUSTED, active=full)

    async def _open_socket(self) -> None:
        try:
            self._ws = await connect_websocket(
                await self._session(),
                self.url,
                timeout=self.request_timeout,
                what=f"Elegoo printer {self.host}",
                close_timeout=self.close_timeout,
            )
        except aiohttp.WSServerHandshakeError as err:
            message = (
                f"{self.host}:{self.port} refused the websocket (HTTP {err.status}); "
                "the printer may already serve its maximum number of clients"
            )
            if err.status in _BUSY_HTTP_STATUSES:
                raise _no_free_slot(message) from err
            raise PrinterConnectionError(message) from err
        await self._handshake()

    async def _handshake(self) -> None:
        """Ask for attributes and status; read until both arrived."""
        loop = asyncio.get_running_loop()
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
        while True:
            await self._receive_one(None)

    async def _probe(self) -> None:
        """A status request and its answer: the keep-alive and the freshness proof."""
        await self._request_push(Cmd.STATUS, "status")

    async def _teardown(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    # ------------------------------------------------------------ receiving

    async def _receive_one(self, timeout: float | None) -> Report | None:
        """Read and handle one message; None on timeout or for ignored input."""
        ws = self._ws
        if ws is None:
            raise PrinterConnectionError(f"connection to {self.host} is closed")
        try:
            text = await ws.receive_text(timeout)
        except TimeoutError:
            return None
        except PrinterConnectionError as err:
            # A full printer closes a new client at once, before it says anything
            # (the simulator, like servers in general, with 1013 "try again later").
            turned_away = ws.close_code == aiohttp.WSCloseCode.TRY_AGAIN_LATER or (
                self._opening and self._attributes is None and self._opening_status is None
            )
            if turned_away:
                raise _no_free_slot(
                    f"{self.host} closed the websocket (code {ws.close_code}); a printer "
                    "already serving its maximum of clients closes new ones at once"
                ) from err
            raise
        if text == "pong":
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
            self._pushes.resolve_where(lambda key: key[0] == "status", None)
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
            self._pushes.resolve_where(lambda key: key[0] == "attributes", None)
        elif isinstance(report, ResponseReport):
            self._acks.resolve(report.request_id or "", report)
        elif isinstance(report, ErrorReport):
            self._error_code = report.code
            self._update_state(error=f"printer error code {report.code}")
        elif isinstance(report, NoticeReport):
            _LOGGER.debug("Notice from %s: %s", self.host, report.message)

    async def _request_push(self, cmd: Cmd, push: str) -> None:
        """Send ``cmd`` and wait for the push it triggers (status or attributes)."""
        key = (push, next(self._push_ids))
        self._pushes.expect(key)
        try:
            await self._request(cmd, {})
        except BaseException:
            self._pushes.discard(key)
            raise
        await self._pushes.wait(key, self.request_timeout, f"{self.host}: {push}")

    def _apply_status(self, report: StatusReport, *, connected: bool | None = None) -> None:
        if report.filename:  # kept after the job ends: the file a reprint starts
            self.last_job_name = report.filename.rsplit("/", 1)[-1][:MAX_PATH_LENGTH] or None
        resolved, changes = status_changes(report, self.flavor, self._ticks)
        if resolved is not None and resolved.status is not PrintStatus.ERROR:
            self._error_code = None
        elif resolved is not None and self._error_code is not None:
            changes["error"] = f"printer error code {self._error_code}"
        if report.rgb_light is not None:
            self._rgb = report.rgb_light
        self.details.update(details(report))
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
        self._info, self._capabilities, self._camera = identity(
            self.host, mainboard, self.flavor, attrs, status, self.stream_url
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
        async with self._send_lock:
            await ws.send_text(json.dumps(envelope))
        return request_id

    async def _request(self, cmd: int, data: dict[str, Any]) -> dict[str, Any]:
        """Send a request and wait for its ack; raise PrinterCommandError on a refusal."""
        if self._ws is None:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        request_id = uuid.uuid4().hex
        self._acks.expect(request_id)
        try:
            await self._send(cmd, data, request_id)
        except BaseException:
            self._acks.discard(request_id)
            raise
        response: ResponseReport = await self._acks.wait(
            request_id, self.request_timeout, f"{self.host}: Cmd {int(cmd)}"
        )
        if response.ack:
            raise PrinterCommandError(
                f"{self.host} refused Cmd {int(cmd)} (Ack {response.ack})",
                reason=ack_reason(cmd, response.ack),
            )
        return response.data

    async def refresh(self) -> PrinterState:
        """Ask for a status push (Cmd 0) and return the state it produced."""
        await self._request_push(Cmd.STATUS, "status")
        return self._state

    async def refresh_attributes(self) -> PrinterInfo:
        """Ask for the attributes again (Cmd 1); name or firmware may have changed."""
        await self._request_push(Cmd.ATTRIBUTES, "attributes")
        return self.info
