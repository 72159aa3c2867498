"""What several benchmark sections start: a real Home Assistant (as scripts/develop runs it).

:func:`home_assistant` starts one in a temporary folder, onboards it and
yields a :class:`Stack` with an authenticated API; farms of simulated
printers started through :meth:`Stack.farm` are stopped with it. Helpers read
a process's CPU time and memory from ``/proc`` and the load average, which
every section records (the numbers depend on what else the machine runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
from typing import Any

import aiohttp

from devtools.api import HaApi
from devtools.farm import start_farm
from devtools.flows import Added, add_printers, wait_settled
from devtools.ha import start_home_assistant, wait_running, wait_serving
from devtools.layout import Layout, port_is_free, prepare_config
from devtools.onboarding import ensure_access
from devtools.processes import Child
from devtools.requirements import develop_requirements, install, missing_requirements

ROOT = Path(__file__).resolve().parent.parent
#: printfarm's own discovery stays off: a benchmark adds its printers itself.
QUIET_ENV = {"PRINTFARM_DISCOVERY": "off"}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of the process, MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024.0
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def environment() -> dict[str, Any]:
    """Machine facts every section records next to its numbers."""
    return {
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
    }


def free_port(first: int = 18200, last: int = 18400) -> int:
    """A free TCP port of 127.0.0.1 in ``first``..``last``."""
    for port in range(first, last):
        if port_is_free(port):
            return port
    raise RuntimeError("no free port for the benchmark's Home Assistant")


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile by nearest rank; NaN without values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Stack:
    """A running Home Assistant, its API, and the farms started for it."""

    layout: Layout
    api: HaApi
    hass: Child
    farms: list[Child] = field(default_factory=list)

    async def farm(self, extra: list[str], speed: float = 1.0) -> list[dict[str, Any]]:
        """Start ``scripts/simulate`` with ``extra``; its printers' lines."""
        child, lines = await start_farm(self.layout, speed, extra)
        self.farms.append(child)
        return lines

    async def add(self, lines: list[dict[str, Any]], timeout: float = 300.0) -> list[Added]:
        """Add the printers through the config flow and wait until their entries settle."""
        results, _removed = await add_printers(self.api, lines, [])
        await wait_settled(self.api, results, timeout)
        return results

    async def traffic(self) -> dict[str, int]:
        """State messages every farm's printers sent so far, per kind (SIGUSR2, one line each)."""
        total: dict[str, int] = {}
        for child in self.farms:
            stdout = child.process.stdout
            if stdout is None or not child.running:
                continue
            child.process.send_signal(signal.SIGUSR2)
            while True:
                raw = await stdout.readline()
                if not raw:
                    break
                with contextlib.suppress(ValueError):
                    data = json.loads(raw)
                    if isinstance(data, dict) and "traffic" in data:
                        for kind, count in data["traffic"].items():
                            total[kind] = total.get(kind, 0) + int(count)
                        break
        return total


async def websocket(api: HaApi) -> aiohttp.ClientWebSocketResponse:
    """An authenticated WebSocket connection to Home Assistant (the caller closes it)."""
    ws = await api.session.ws_connect(api.websocket_url, max_msg_size=0)
    await ws.receive_json()
    await ws.send_json({"type": "auth", "access_token": api.token})
    answer = await ws.receive_json()
    if answer.get("type") != "auth_ok":
        await ws.close()
        raise RuntimeError(f"WebSocket auth failed: {answer}")
    return ws


@contextlib.asynccontextmanager
async def home_assistant(base: Path, env: Mapping[str, str] | None = None) -> AsyncIterator[Stack]:
    """A running, onboarded Home Assistant with printfarm, in ``base``; stopped on exit."""
    layout = Layout(repo=ROOT, base=base)
    port = free_port()
    missing = missing_requirements(develop_requirements(layout))
    if missing:
        await asyncio.to_thread(install, missing)
    prepare_config(layout, port)
    hass = await start_home_assistant(layout, {**QUIET_ENV, **(env or {})})
    stack: Stack | None = None
    try:
        async with aiohttp.ClientSession() as session:
            api = HaApi(session, f"http://127.0.0.1:{port}")
            await wait_serving(api, hass, 300)
            access = await ensure_access(api, layout)
            api = api.with_token(access.token)
            await wait_running(api, hass, 300)
            stack = Stack(layout=layout, api=api, hass=hass)
            yield stack
    finally:
        for child in [*(stack.farms if stack else []), hass]:
            with contextlib.suppress(Exception):
                await child.stop()
