"""A simulated Bambu Lab printer: mosquitto as its broker, an MQTT "printer" behind it.

Options (``SimOptions``): ``model`` X1C | P1S | A1 | H2D (also X1E, P1P,
A1M, H2S; see ``models.py``), ``state_file`` a captured ``{"print": {...}}``
report to start from, ``extra``:

* ``authorization_control``: True -> ``fun`` has the authorization bit and
  print/gcode commands are answered with ``err_code`` 84033543 (the light
  still works); ``"reply_only"`` -> only the refusals, ``fun`` looks open.
  ``set_developer_mode()`` switches it at run time.
* ``liveview``: False -> X1/H2 report ``ipcam.rtsp_url`` "disable" ("LAN only
  liveview" off); ``set_liveview()`` switches it at run time.
* ``access_code`` / ``serial``: fixed credentials instead of generated ones.
* ``report_interval``: seconds between periodic reports (default 1).
* ``frame_interval``: seconds between camera frames (default 1).
* ``ssdp_port``: send the SSDP NOTIFY a real printer broadcasts on UDP 2021
  to this port of ``ssdp_host`` (default 127.0.0.1; never a broadcast),
  at once and every ``ssdp_interval`` seconds (default 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
import random
import shutil
import ssl
import tempfile
import time
from typing import Any, ClassVar

from .. import traffic
from ..base import SimOptions, SimulatedPrinter
from ..camera import FrameSource
from ..faults import Fault, hostile_message
from ..job import ACTIVE, Phase, PrintJob
from . import certs
from .broker import Mosquitto, free_port, write_config
from .camera import CameraServer
from .link import LinkError, PrinterLink
from .models import sim_model
from .reports import PrinterExtras, build_report, delta
from .requests import RequestHandler
from .ssdp import SsdpAnnouncer, notify_datagram

_LOGGER = logging.getLogger(__name__)


class BambuSimulator(RequestHandler, SimulatedPrinter):
    """One Bambu printer on loopback: TLS MQTT broker, reports, commands, camera."""

    kind: ClassVar[str] = "bambu"

    def __init__(self, job: PrintJob, camera: FrameSource, options: SimOptions) -> None:
        """Pick the model and credentials; ``start()`` opens everything."""
        super().__init__(job, camera, options)
        spec = self.spec = sim_model(options.model)
        extra = options.extra
        self.serial: str = extra.get("serial") or (
            f"{spec.serial_prefix}00A{options.index + 1:09d}"
        )
        self.access_code: str = extra.get("access_code") or f"{random.randrange(10**8):08d}"
        auth = extra.get("authorization_control", False)
        self.refuse_control: bool = bool(auth)
        self.extras = PrinterExtras(
            authorization_fun=auth is True, liveview=bool(extra.get("liveview", True))
        )
        self.report_interval: float = float(extra.get("report_interval", 1.0))
        self.frame_interval: float = float(extra.get("frame_interval", 1.0))
        #: Tests set this to make the printer go silent (broker stays up).
        self.muted = False
        #: Every request received (also while muted); the event is set on each one.
        self.requests: list[dict[str, Any]] = []
        self.request_arrived = asyncio.Event()
        self._folder: Path | None = None
        self._broker: Mosquitto | None = None
        self._link: PrinterLink | None = None
        self._internal_port = 0
        self._camera: CameraServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_sent: dict[str, Any] | None = None
        self._dirty = asyncio.Event()
        self._stopping = False
        self.port = 0
        self.camera_port: int | None = None
        self.ssdp: SsdpAnnouncer | None = None

    @property
    def ca_file(self) -> str:
        """The CA a client must trust to talk to this printer."""
        assert self._folder is not None
        return str(self._folder / "ca.pem")

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> dict[str, Any]:
        """Start mosquitto, the printer client and (P1/A1) the camera socket."""
        host = self.options.host
        if self.options.state_file:
            self.extras.base = await asyncio.to_thread(_load_state, Path(self.options.state_file))
        self._folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="printfarm-bambu-"))
        try:
            files = await asyncio.to_thread(certs.generate, self._folder, self.serial)
            self.port = self.options.port or await asyncio.to_thread(free_port, host)
            self._internal_port = await asyncio.to_thread(free_port, "127.0.0.1")
            conf = await asyncio.to_thread(
                write_config,
                self._folder,
                host=host,
                port=self.port,
                internal_port=self._internal_port,
                serial=self.serial,
                access_code=self.access_code,
                certs=files,
            )
            self._broker = Mosquitto(conf, host, self.port)
            await self._broker.start()
            await self._connect_printer()
            self.job.add_listener(self._dirty.set)
            self._tasks.append(
                asyncio.create_task(self._report_loop(), name=f"bambu sim {self.serial} reports")
            )
            self._tasks.append(
                asyncio.create_task(self._reconnect_loop(), name=f"bambu sim {self.serial} link")
            )
            if self.spec.camera_socket:
                server_ssl = await asyncio.to_thread(_server_context, files.cert, files.key)
                self._camera = CameraServer(
                    self.camera, self.access_code, server_ssl, interval=self.frame_interval
                )
                self.camera_port = await self._camera.start(host)
        except BaseException:
            await self.stop()
            raise
        name = self.options.name or f"Bambu {self.spec.name} {self.options.index + 1}"
        self._start_ssdp(name)
        line: dict[str, Any] = {
            "kind": self.kind,
            "name": name,
            "host": host,
            "port": self.port,
            "serial": self.serial,
            "access_code": self.access_code,
            "model": self.spec.code,
            "extra": {"ca_file": self.ca_file},
        }
        if self.camera_port is not None:
            line["camera_port"] = self.camera_port
        return line

    async def stop(self) -> None:
        """Stop the printer client, the camera, mosquitto; remove the files."""
        self._stopping = True
        if self.ssdp is not None:
            await self.ssdp.stop()
            self.ssdp = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._link is not None:
            await self._link.close()
            self._link = None
        if self._camera is not None:
            await self._camera.stop()
            self._camera = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        if self._folder is not None:
            await asyncio.to_thread(shutil.rmtree, self._folder, ignore_errors=True)
            self._folder = None

    def _start_ssdp(self, name: str) -> None:
        """Announce the printer over SSDP when ``extra["ssdp_port"]`` asks for it."""
        extra = self.options.extra
        if not extra.get("ssdp_port"):
            return
        datagram = notify_datagram(
            self.spec, serial=self.serial, location=self.options.host, name=name
        )
        self.ssdp = SsdpAnnouncer(
            datagram,
            str(extra.get("ssdp_host") or "127.0.0.1"),
            int(extra["ssdp_port"]),
            float(extra.get("ssdp_interval", 5.0)),
        )
        self.ssdp.start()

    def set_developer_mode(self, on: bool) -> None:
        """Developer mode on: commands are accepted and ``fun`` loses the authorization bit."""
        self.refuse_control = not on
        self.extras.authorization_fun = not on
        self._dirty.set()

    def set_liveview(self, on: bool) -> None:
        """Switch "LAN only liveview" (X1/H2: ``rtsp_url`` becomes the URL or "disable")."""
        self.extras.liveview = on
        self._dirty.set()

    async def restart_broker(self) -> None:
        """Kill and restart mosquitto on the same port (every client is dropped)."""
        assert self._broker is not None
        await self._broker.stop()
        await self._broker.start()

    @property
    def broker_log(self) -> list[str]:
        """mosquitto's last lines (for test failure messages)."""
        return self._broker.log if self._broker else []

    async def _connect_printer(self) -> None:
        link = PrinterLink("127.0.0.1", self._internal_port, self.access_code, self._on_request)
        await link.connect()
        link.subscribe(f"device/{self.serial}/request")
        self._link = link

    async def _reconnect_loop(self) -> None:
        """Keep the printer's own MQTT link up (the broker may be restarted by tests)."""
        while not self._stopping:
            link = self._link
            if link is not None:
                await asyncio.wait({link.closed})
                await link.close()
                self._link = None
            try:
                await self._connect_printer()
            except LinkError:
                await asyncio.sleep(0.2)

    # --------------------------------------------------------------- reports

    def _report(self) -> dict[str, Any]:
        self.extras.sequence += 1
        snap = self.job.tick()
        if snap.phase in ACTIVE and not self.extras.job_started_at:
            self.extras.job_started_at = int(time.time() - snap.elapsed_s)
        if snap.phase is Phase.IDLE:
            self.extras.job_started_at = 0
        return build_report(self.spec, self.serial, snap, self.extras, time.time())

    def _publish(self, message: dict[str, Any]) -> None:
        if not self.muted and self._link is not None:
            traffic.sent(self.kind)
            self._link.publish(f"device/{self.serial}/report", json.dumps(message))

    def publish_full(self) -> None:
        """Send the whole ``print`` object (answer to pushall, and every X1 report)."""
        report = self._report()
        self._last_sent = report
        self._publish({"print": report})

    def publish_update(self) -> None:
        """X1: the full object; P1/A1/H2: only what changed since the last report."""
        if self.spec.full_reports or self._last_sent is None:
            self.publish_full()
            return
        report = self._report()
        changed = delta(self._last_sent, report)
        changed.pop("sequence_id", None)
        if not changed:
            return
        self._last_sent = report
        self._publish(
            {
                "print": {
                    **changed,
                    "command": "push_status",
                    "msg": 1,
                    "sequence_id": report["sequence_id"],
                }
            }
        )

    async def inject(self, fault: Fault) -> None:
        """One bad report on the report topic, shaped like a delta."""
        good = {"print": {"command": "push_status", "msg": 1, "nozzle_temper": 200.0}}
        self.publish_raw(hostile_message(fault, good, ("print", "nozzle_temper")).encode())

    def publish_raw(self, payload: bytes) -> None:
        """Tests: put arbitrary bytes on the report topic."""
        if self._link is not None:
            self._link.publish(f"device/{self.serial}/report", payload)

    async def _report_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.report_interval):
                    await self._dirty.wait()
            self._dirty.clear()
            self.publish_update()

    # -------------------------------------------------------------- requests

    def _on_request(self, payload: bytes) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        self.requests.append(message)
        self.request_arrived.set()
        if self.muted:
            return
        for cls, body in message.items():
            if isinstance(body, dict) and isinstance(body.get("command"), str):
                self._handle(cls, body)


def _load_state(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    report = data.get("print", data) if isinstance(data, dict) else None
    if not isinstance(report, dict):
        raise TypeError(f"{path}: not a Bambu report ({{'print': {{...}}}})")
    return report


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
