"""Real OctoPrint (PyPI, bundled Virtual Printer) as a test peer, and the simulator beside it.

``RealOctoPrint`` builds a throw-away base dir (admin user with a fixed API
key, first-run wizard off, online check off, every plugin that phones home
or multicasts disabled, virtual printer on, rate limiter off) and serves it
on 127.0.0.1 with a free port. ``SimOctoPrint`` wraps the simulator behind
the same interface, so the one scenario runs against both and the simulator
is held to the real server.

Installation lives in ``scripts/interop/octoprint.sh`` (``.interop/octoprint-venv``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import contextlib
import http.client
import json
import os
from pathlib import Path
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any
import urllib.error
import urllib.request

import aiohttp

from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.octoprint import OctoPrintSimulator

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / ".interop"
VENV = INTEROP / "octoprint-venv"
UNAVAILABLE = INTEROP / "octoprint.unavailable"
ADMIN_KEY = "PRINTFARMTESTKEY0123456789ABCDEF"
#: Seconds the virtual printer waits per G-code line (its ``throttle``).
THROTTLE = 0.01
#: Plugins that phone home, multicast or nag; disabled so the peer stays on loopback.
DISABLED_PLUGINS = [
    "announcements",
    "softwareupdate",
    "tracking",
    "errortracking",
    "pluginmanager",
    "achievements",
    "firmware_check",
    "pi_support",
    "backup",
    "discovery",
    "health_check",
]


def octoprint_binary() -> Path:
    """The installed ``octoprint`` executable."""
    return VENV / "bin" / "octoprint"


def gcode(seconds: float) -> bytes:
    """A G-code file that takes about ``seconds`` on the throttled virtual printer."""
    lines = ["G21", "G90", "M82", "G28"]
    moves = max(10, int(seconds / THROTTLE))
    for i in range(moves):
        x = 10 + (i % 100)
        lines.append(f"G1 X{x} Y{10 + (i // 100) % 100} E{i * 0.01:.2f} F6000")
    lines.append("M84")
    return ("\n".join(lines) + "\n").encode()


def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Peer(ABC):
    """What the interop scenario needs from an OctoPrint server."""

    host = "127.0.0.1"
    port: int
    admin_key: str

    @abstractmethod
    async def start_job(self, session: aiohttp.ClientSession, name: str, seconds: float) -> None:
        """Upload a file that prints for about ``seconds`` and start it."""

    async def admin(
        self, session: aiohttp.ClientSession, method: str, path: str, body: Any = None
    ) -> tuple[int, Any]:
        """One API call with the admin key (what a user does in the UI)."""
        async with session.request(
            method,
            f"http://{self.host}:{self.port}/{path}",
            json=body,
            headers={"X-Api-Key": self.admin_key},
        ) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text.strip() else None

    async def connect_printer(self, session: aiohttp.ClientSession) -> None:
        """Open the serial link to the (virtual) printer, as the UI's Connect button does."""
        status, body = await self.admin(
            session,
            "POST",
            "api/connection",
            {"command": "connect", "port": "VIRTUAL", "baudrate": 115200},
        )
        assert status == 204, body

    async def upload(
        self,
        session: aiohttp.ClientSession,
        name: str,
        data: bytes,
        *,
        start: bool,
        folder: str = "",
    ) -> None:
        """``POST /api/files/local`` with select (and print), into ``folder`` when given."""
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
        form.add_field("select", "true")
        form.add_field("print", "true" if start else "false")
        if folder:
            form.add_field("path", folder)
        async with session.post(
            f"http://{self.host}:{self.port}/api/files/local",
            data=form,
            headers={"X-Api-Key": self.admin_key},
        ) as resp:
            assert resp.status == 201, await resp.text()

    async def admin_form(
        self, session: aiohttp.ClientSession, fields: dict[str, str]
    ) -> tuple[int, Any]:
        """``POST /api/files/local`` with form fields only (``foldername`` makes a folder)."""
        form = aiohttp.FormData()
        for key, value in fields.items():
            form.add_field(key, value)
        async with session.post(
            f"http://{self.host}:{self.port}/api/files/local",
            data=form,
            headers={"X-Api-Key": self.admin_key},
        ) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text.strip() else None

    async def approve_pending(self, session: aiohttp.ClientSession, app: str) -> int:
        """Approve every pending app-key request of ``app`` as the admin; returns how many."""
        status, body = await self.admin(session, "GET", "api/plugin/appkeys")
        assert status == 200, body
        approved = 0
        for token, pending in body["pending"].items():
            if pending["app_id"] != app:
                continue
            status, answer = await self.admin(
                session, "POST", f"plugin/appkeys/decision/{token}", {"decision": True}
            )
            assert status == 204, answer
            approved += 1
        return approved


class SimOctoPrint(Peer):
    """The simulator, started like the real peer: printer not connected yet."""

    def __init__(self) -> None:
        """Create the simulator (not started)."""
        self.job = PrintJob(file="idle.gcode", heat_s=0.0, start_printing=False)
        self.sim = OctoPrintSimulator(
            self.job, FrameSource(), SimOptions(extra={"api_key": ADMIN_KEY})
        )
        self.sim.printer_connected = False
        self.admin_key = ADMIN_KEY

    async def start(self) -> None:
        """Serve the simulator."""
        line = await self.sim.start()
        self.port = int(line["port"])

    async def stop(self) -> None:
        """Stop the simulator."""
        await self.sim.stop()

    async def start_job(self, session: aiohttp.ClientSession, name: str, seconds: float) -> None:
        """The same upload; the simulated job lasts ``seconds``."""
        self.job.duration_s = seconds
        await self.upload(session, name, gcode(seconds), start=True)


class RealOctoPrint(Peer):
    """A real ``octoprint serve`` in a temporary base dir (sync start/stop, for fixtures)."""

    def __init__(self, *, discovery_on_loopback: bool = False) -> None:
        """Nothing runs before ``start()``.

        ``discovery_on_loopback``: keep the discovery plugin, announcing on 127.0.0.1
        only (HA core's octoprint reads the instance UUID from its ``discovery.xml``).
        """
        self.discovery_on_loopback = discovery_on_loopback
        self.admin_key = ADMIN_KEY
        self.process: subprocess.Popen[bytes] | None = None
        self.tmp: Path | None = None
        self.log: Path | None = None

    def _cli(self, *args: str) -> None:
        assert self.tmp is not None
        subprocess.run(
            [str(octoprint_binary()), "-b", str(self.tmp / "base"), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        """Build the base dir, serve and wait until ``/api/version`` answers."""
        self.tmp = Path(tempfile.mkdtemp(prefix="printfarm-octoprint-"))
        base = self.tmp / "base"
        self._cli("user", "add", "admin", "--password", "adminpass", "--admin")
        self._cli("config", "set", "--bool", "server.firstRun", "false")
        self._cli("config", "set", "--bool", "server.onlineCheck.enabled", "false")
        self._cli("config", "set", "--bool", "server.pluginBlacklist.enabled", "false")
        self._cli("config", "set", "--bool", "devel.enableRateLimiter", "false")
        self._cli(
            "config",
            "set",
            "--json",
            "plugins",
            json.dumps(self._plugins()),
        )
        users = base / "users.yaml"
        text = users.read_text()
        assert "apikey: null" in text, text
        users.write_text(text.replace("apikey: null", f"apikey: {ADMIN_KEY}", 1))
        self.log = self.tmp / "serve.log"
        for attempt in range(3):  # another process may grab the free port first
            self.port = free_port()
            args = [str(octoprint_binary()), "-b", str(base), "serve"]
            args += ["--host", self.host, "--port", str(self.port)]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                args.append("--iknowwhatimdoing")
            with self.log.open("wb") as log:
                self.process = subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp
                )
            try:
                self._wait_up(timeout=60.0)
            except RuntimeError:
                self._kill()
                if attempt == 2:
                    raise
            else:
                return

    def _plugins(self) -> dict[str, Any]:
        plugins: dict[str, Any] = {
            "_disabled": DISABLED_PLUGINS,
            "virtual_printer": {"enabled": True, "throttle": THROTTLE},
        }
        if self.discovery_on_loopback:
            plugins["_disabled"] = [p for p in DISABLED_PLUGINS if p != "discovery"]
            plugins["discovery"] = {"addresses": ["127.0.0.1"]}
        return plugins

    def _wait_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.port}/api/version"
        request = urllib.request.Request(url, headers={"X-Api-Key": ADMIN_KEY})
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"octoprint serve exited: {self.tail()}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError, http.client.HTTPException),
                urllib.request.urlopen(request, timeout=2) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.2)  # the peer process is starting; nothing to wait on but the port
        raise RuntimeError(f"octoprint serve did not answer in {timeout:g} s: {self.tail()}")

    def tail(self) -> str:
        """The end of the server log (for failure messages)."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """Stop the server (by its PID) and remove the base dir."""
        self._kill()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    async def start_job(self, session: aiohttp.ClientSession, name: str, seconds: float) -> None:
        """Upload a G-code file long enough for ``seconds`` and print it."""
        await self.upload(session, name, gcode(seconds), start=True)
