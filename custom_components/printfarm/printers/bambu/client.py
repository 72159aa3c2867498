"""Bambu Lab LAN client: MQTT over TLS to the printer's own broker.

The printer is the broker (port 8883, user ``bblp``, password = LAN access
code, certificate name = serial). The client subscribes to
``device/<serial>/report``, asks for everything with ``pushall`` and merges the
reports that follow (P1/A1/H2 send only what changed). Only the keys printfarm
reads are kept, and a key whose value cannot be used is dropped from the
merge, so one bad report never blocks the ones after it. The heartbeat's
probe is a ``get_version`` request every ``poll_interval`` seconds: its answer
proves the link current. Commands (``control``) go to
``device/<serial>/request`` and are confirmed by the state that follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import dataclasses
import itertools
import json
import logging
from pathlib import Path
import ssl
import time
from typing import Any, Final
import uuid

from ..base import PrinterClient
from ..coerce import as_dict, decode_message, deep_merge
from ..exceptions import PrinterConnectionError, PrinterError, PrinterProtocolError, Reason
from ..models import (
    CameraInfo,
    CameraKind,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
)
from .camera import DEFAULT_CAMERA_PORT, USERNAME
from .descriptor import DEFAULT_PORT, DESCRIPTOR
from .models import (
    UNKNOWN_MODEL,
    ModelSpec,
    capabilities_for,
    default_name,
    model_from_serial,
    spec_for,
)
from .mqtt import AsyncMqtt
from .parse import KNOWN_KEYS, parse_print, parse_version
from .tls import bundled_ca_pem, client_context

_LOGGER = logging.getLogger(__name__)

#: MQTT keep-alive; paho pings at this interval and drops a silent broker after 1.5x.
KEEPALIVE_S: Final = 15

__all__ = ["DEFAULT_PORT", "BambuClientBase"]


class BambuClientBase(PrinterClient):
    """A Bambu Lab printer in LAN mode (X1, P1, A1, H2, P2 families): connection and state."""

    kind = PrinterKind.BAMBU
    descriptor = DESCRIPTOR

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
        poll_interval: float | None = None,
        stale_after: float | None = None,
    ) -> None:
        """Store where and how to connect; nothing is opened until ``connect()``."""
        if not serial:
            raise PrinterError("a Bambu printer needs its serial number")
        if not access_code:
            raise PrinterError("a Bambu printer needs its LAN access code")
        super().__init__(
            host,
            request_timeout=request_timeout,
            poll_interval=poll_interval or (stale_after / 2 if stale_after else None),
            stale_after=stale_after,
        )
        self.serial = serial.strip()
        self.port = port
        self.camera_port = camera_port or DEFAULT_CAMERA_PORT
        self._access_code = access_code
        self._ca_file = ca_file
        self._name = name
        self._spec: ModelSpec = spec_for(model) or model_from_serial(self.serial) or UNKNOWN_MODEL
        self._model_hinted = self._spec is not UNKNOWN_MODEL
        self._ssl: ssl.SSLContext | None = None
        self._mqtt: AsyncMqtt | None = None
        self._raw: dict[str, Any] = {}
        self._firmware: str | None = None
        self._version_seen = asyncio.Event()
        self._reports = self._new_pending()  # (n, full only) -> None
        self._replies = self._new_pending()  # (class, sequence, command) -> reply body
        self._report_ids = itertools.count()
        self._sequence = itertools.count(1)
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
        mqtt.subscribe(self._report_topic)
        first_report = self._next_report(full=False)
        self._publish({"info": {"sequence_id": "0", "command": "get_version"}})
        self._publish_pushall()
        try:
            await self._reports.wait(first_report, self.request_timeout, "first report")
        except PrinterConnectionError as err:
            raise PrinterConnectionError(
                f"{self.host}: connected, but no report within {self.request_timeout:g} s "
                "(is the serial number right?)"
            ) from err
        try:
            async with asyncio.timeout(min(2.0, self.request_timeout)):
                await self._version_seen.wait()
        except TimeoutError:
            _LOGGER.debug("%s did not say its version", self.host)
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
        rtsp = as_dict(self._raw.get("ipcam")).get("rtsp_url")
        if camera is CameraKind.NONE and isinstance(rtsp, str) and rtsp.startswith("rtsps://"):
            camera = CameraKind.RTSPS
        # The RTSPS URL is handed out by open_stream() only: it leads to a verified relay.
        self._camera = CameraInfo(kind=camera)
        if camera is not self._capabilities.camera:
            self._capabilities = dataclasses.replace(self._capabilities, camera=camera)

    async def _listen(self) -> None:
        mqtt = self._mqtt
        if mqtt is None or mqtt.lost is None:
            raise PrinterConnectionError("not connected")
        why = await mqtt.lost
        if mqtt.too_large:
            raise PrinterProtocolError(
                f"{self.host} sent an MQTT packet over the size limit", reason=Reason.TOO_LARGE
            )
        raise PrinterConnectionError(f"connection lost: {why}")

    async def _probe(self) -> None:
        """``get_version`` and its answer: a round trip through the printer itself.

        Reports alone prove nothing: over a congested link they keep coming,
        only late. The probe's answer comes back in time or the state is stale.
        """
        key = ("info", "0", "get_version")
        self._replies.expect(key)
        try:
            self._publish({"info": {"sequence_id": "0", "command": "get_version"}})
        except PrinterError:
            self._replies.discard(key)
            raise
        await self._replies.wait(key, self.request_timeout, f"{self.host}: get_version")

    async def _teardown(self) -> None:
        mqtt, self._mqtt = self._mqtt, None
        if mqtt is not None:
            await mqtt.close()

    # ------------------------------------------------------------ messages

    def _on_message(self, topic: str, payload: bytes) -> None:
        message = decode_message(payload, "report", self.host)
        if message is None:
            return
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
        """Fail whatever waits for a report or a reply: none will come on this connection."""
        error = PrinterConnectionError(f"{self.host}: connection lost ({why})")
        self._reports.fail_all(error)
        self._replies.fail_all(error)

    def _apply_report(self, body: Mapping[str, Any]) -> None:
        delta = {key: value for key, value in body.items() if key in KNOWN_KEYS}
        merged = deep_merge(self._raw, delta)
        if self._parse(merged):
            full = body.get("msg", 0) == 0
            self._reports.resolve_where(lambda key: full or not key[1], None)

    def _parse(self, merged: dict[str, Any]) -> bool:
        """Turn the merged report into state; keys it could not use go back to their last value."""
        try:
            parsed = parse_print(merged, self._spec, time.time())
        except Exception as err:  # noqa: BLE001 - never let one odd report kill the connection
            _LOGGER.warning("Dropping a report from %s that cannot be read: %s", self.host, err)
            return False
        for key in parsed.bad:
            if key in self._raw:
                merged[key] = self._raw[key]
            else:
                del merged[key]
        self._raw = merged
        if parsed.authorization_required is not None:
            self._fun_requires_auth = parsed.authorization_required
        self.details = parsed.details
        blocked = self._fun_requires_auth or self._refused_auth
        update = parsed.update
        update["control_available"] = not blocked
        update["control_unavailable_reason"] = Reason.CONTROL_UNAVAILABLE if blocked else None
        update["notices"] = self._notices(blocked, parsed.details.get("liveview"))
        self._update_state(**update)
        return True

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
                self._parse(dict(self._raw))
        self._version_seen.set()
        if self._info is not None:
            self._refresh_identity()

    def _resolve_reply(self, cls: str, command: str, body: dict[str, Any]) -> None:
        key = (cls, str(body.get("sequence_id")), command)
        if not self._replies.resolve(key, body):
            # some firmware does not echo the sequence id: the oldest waiter of that command
            for waiting in self._replies.waiting():
                if waiting[0] == cls and waiting[2] == command:
                    self._replies.resolve(waiting, body)
                    break

    def _next_report(self, *, full: bool) -> tuple[int, bool]:
        """A key to wait for the next report with (``full``: only a whole one, after pushall)."""
        key = (next(self._report_ids), full)
        self._reports.expect(key)
        return key

    def _publish(self, message: dict[str, Any]) -> None:
        if self._mqtt is None:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        self._mqtt.publish(self._request_topic, json.dumps(message), qos=1)

    def _publish_pushall(self) -> None:
        self._publish(
            {"pushing": {"sequence_id": "0", "command": "pushall", "version": 1, "push_target": 1}}
        )

    async def refresh(self) -> PrinterState:
        """Ask for a full report (``pushall``) and return the state it produced."""
        if self._mqtt is None:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        key = self._next_report(full=True)
        try:
            self._publish_pushall()
        except PrinterError:
            self._reports.discard(key)
            raise
        await self._reports.wait(key, self.request_timeout, f"{self.host}: pushall")
        return self._state
