"""scripts/develop run as a newcomer runs it: real hass, real farm, Ctrl-C, run again.

Real-peer tier (a real Home Assistant process, the frontend package, about a
minute per start): scripts/test --interop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from ipaddress import IPv4Address, IPv6Address
import os
from pathlib import Path
import shutil
import signal
import socket
from typing import Any

import aiohttp
import pytest

from devtools.api import HaApi

from .conftest import REPO

pytestmark = pytest.mark.interop

START_TIMEOUT = 900.0  # the very first run pip-installs the frontend
KINDS = {"bambu", "moonraker", "octoprint", "prusalink", "elegoo"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Develop:
    """One scripts/develop process and what it printed."""

    def __init__(self, base: Path, port: int) -> None:
        self.base = base
        self.port = port
        self.process: asyncio.subprocess.Process | None = None
        self.output: list[str] = []

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PRINTFARM_DEVELOP_DIR": str(self.base),
            "PRINTFARM_HA_PORT": str(self.port),
        }

    async def start(self, *args: str) -> None:
        """Start it (with ``args``) and read its output until it says Ready (or fails)."""
        self.output = []
        self.process = await asyncio.create_subprocess_exec(
            str(REPO / "scripts" / "develop"),
            *args,
            cwd=REPO,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    await self.process.wait()
                    pytest.fail("scripts/develop ended early:\n" + "".join(self.output))
                self.output.append(raw.decode())
                if raw.startswith(b"Ready."):
                    return

    async def interrupt(self) -> tuple[int, str]:
        """Ctrl-C; its exit status and the rest of its output."""
        assert self.process is not None
        assert self.process.stdout is not None
        self.process.send_signal(signal.SIGINT)
        async with asyncio.timeout(120):
            rest = await self.process.stdout.read()
            code = await self.process.wait()
        return code, rest.decode()

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()

    def api(self, session: aiohttp.ClientSession) -> HaApi:
        token = (self.base / "token").read_text().strip()
        return HaApi(session, f"http://127.0.0.1:{self.port}", token)


def processes_using(path: Path) -> list[int]:
    """Pids whose command line mentions ``path`` (hass runs with --config under it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if str(path).encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
async def develop(tmp_path: Path) -> AsyncGenerator[Develop]:
    run = Develop(tmp_path / "develop", free_port())
    yield run
    await run.kill()


def listening_addresses(port: int) -> set[str]:
    """Addresses with a TCP socket listening on ``port`` (Linux /proc/net/tcp, tcp6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            if len(raw) == 4:
                found.add(str(IPv4Address(raw[::-1])))
            else:  # four little-endian 32-bit words
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                found.add(str(IPv6Address(words)))
    return found


async def check_farm(api: HaApi) -> dict[str, Any]:
    """Five printfarm entries loaded, a status sensor per printer that is printing."""
    entries = await api.get("/api/config/config_entries/entry?domain=printfarm")
    addon = [entry for entry in entries if entry["title"] == "printfarm detection"]
    assert len(addon) == 1  # the detection add-on, connected by scripts/develop
    farm = [entry for entry in entries if entry["title"] == "Print farm"]
    assert len(farm) == 1  # the farm's own entry, created with the first printer
    assert farm[0]["state"] == "loaded"
    entries = [entry for entry in entries if entry not in addon and entry not in farm]
    assert len(entries) == 5
    assert {entry["state"] for entry in entries} == {"loaded"}
    registry = await api.ws_command({"type": "config/entity_registry/list"})
    status_ids = {
        entity["config_entry_id"]: entity["entity_id"]
        for entity in registry
        if entity["platform"] == "printfarm" and entity["translation_key"] == "status"
    }
    assert set(status_ids) == {entry["entry_id"] for entry in entries}
    states = {}
    for entity_id in status_ids.values():
        state = await api.get(f"/api/states/{entity_id}")
        states[entity_id] = state["state"]
    assert set(states.values()) <= {"printing", "preparing"}, states
    return states


async def test_develop_runs_the_whole_product_and_stops_it(develop: Develop) -> None:
    await develop.start()
    text = "".join(develop.output)
    for kind in KINDS:
        assert f" {kind} " in text
    assert "username: printfarm" in text
    password = next(line for line in develop.output if "password:" in line).split(":", 1)[1].strip()
    config = (develop.base / "config" / "configuration.yaml").read_text()
    assert "default_config" not in config.replace("No default_config", "")
    assert listening_addresses(develop.port) == {"127.0.0.1"}

    async with aiohttp.ClientSession() as session:
        api = develop.api(session)
        first_states = await check_farm(api)
        first_token = api.token
    if chromium := shutil.which("chromium"):
        shot = develop.base / "integration.png"
        proc = await asyncio.create_subprocess_exec(
            str(REPO / "scripts" / "develop"),
            "screenshot",
            str(shot),
            "--page",
            "/config/integrations/integration/printfarm",
            cwd=REPO,
            env=develop.env,
        )
        assert await proc.wait() == 0, chromium
        assert shot.stat().st_size > 10_000

    code, rest = await develop.interrupt()
    assert code == 0, rest
    assert "Stopped." in rest
    assert processes_using(develop.base) == []

    # Run again: same owner and token, the printers re-added at their new ports.
    await develop.start()
    text = "".join(develop.output)
    assert "from an earlier run" in text
    assert f"password: {password}" in text
    assert "removed 5 entries" in text
    async with aiohttp.ClientSession() as session:
        api = develop.api(session)
        assert api.token == first_token
        assert set(await check_farm(api)) == set(first_states)  # same entity ids
    code, _rest = await develop.interrupt()
    assert code == 0
    assert processes_using(develop.base) == []
