"""Benchmark section "latency": from a change at the printer to the state in Home Assistant.

One real Home Assistant. The benchmark pauses and resumes a printing job at
the printer, stamps the moment (``time.monotonic()`` just before the change)
and waits on Home Assistant's WebSocket API (``subscribe_events
state_changed``) until the status entity shows it. Per kind, p50/p95/p99 of
``--samples`` changes (alternately paused and printing; ``--core-samples`` on the
printers HA core watches too, whose polls take up to 30 s a change). Printers are
sampled at the same time, each at its own pace:

* printfarm on each simulated kind: the simulators run inside the benchmark's
  process, so the change is a call on the simulated job (push kinds send it at
  once; PrusaLink is polled);
* side by side, the same printer watched by two integrations in the same HA:
  the PrusaLink simulator (Buddy variant, digest auth) by printfarm and by HA
  core's ``prusalink``; a real OctoPrint with its virtual printer (the interop
  tier's, ``.interop/octoprint-venv``, built by ``scripts/interop/octoprint.sh``)
  by printfarm and by HA core's ``octoprint``. For the real OctoPrint the
  stamp is taken before the pause/resume request to its REST API. HA core's
  client libraries are installed into the venv on first use at the versions
  Home Assistant's manifests pin (``pyoctoprintapi``, ``pyprusalink``).

Timing-sensitive: numbers move with the machine's load (recorded). HA core's
integrations poll (OctoPrint every 30 s, PrusaLink every 5 s while printing),
so their numbers are bounded by those intervals, not by the machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import json
from pathlib import Path
import random
import sys
import tempfile
import time
from typing import Any

from devtools.api import HaApi, HaApiError
from devtools.flows import ENTRIES, FLOW, read_statuses
from devtools.requirements import install, missing_requirements
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import SIMULATORS, simulator_class

from . import Section
from .stack import Stack, environment, home_assistant, percentile, websocket

#: HA core's client libraries, as Home Assistant 2025.4.4's manifests pin them.
CORE_REQUIREMENTS = ("pyoctoprintapi==0.1.12", "pyprusalink==2.1.1")
GOAL_P99_MS = 250.0
PUSH_KINDS = frozenset({"bambu", "moonraker", "octoprint", "elegoo"})
#: The slowest poll among the watchers (HA core's OctoPrint: 30 s) plus slack.
WAIT_S = 45.0


@dataclass
class Watcher:
    """Every state change in HA, as it arrives over the WebSocket API."""

    api: HaApi
    seen: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe (returns once HA confirmed the subscription)."""
        ready = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._run(ready))
        await ready

    async def _run(self, ready: asyncio.Future[None]) -> None:
        ws = await websocket(self.api)
        try:
            await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
            async for message in ws:
                at = time.monotonic()
                data = json.loads(message.data)
                if data.get("type") == "result" and not ready.done():
                    ready.set_result(None)
                event = data.get("event") or {}
                new = (event.get("data") or {}).get("new_state") or {}
                entity_id = new.get("entity_id")
                if entity_id:
                    async with self.changed:
                        self.seen.setdefault(entity_id, []).append((at, str(new.get("state"))))
                        self.changed.notify_all()
        finally:
            await ws.close()

    async def stop(self) -> None:
        """Unsubscribe."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    async def reached(self, entity_id: str, state: str, since: float, timeout: float) -> float:
        """When ``entity_id`` first showed ``state`` (case-insensitive) after ``since``."""

        def first() -> float | None:
            for at, value in self.seen.get(entity_id, []):
                if at >= since and value.lower() == state:
                    return at
            return None

        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: first() is not None)
        found = first()
        assert found is not None
        return found


@dataclass
class Pair:
    """One printer, the entities that show its status, and how to flip it."""

    name: str  # "<kind> sim" or "<kind> real"
    flip: Callable[[bool], Awaitable[None]]  # True: pause, False: resume
    watched: dict[str, str]  # label -> status entity
    samples: dict[str, list[float]] = field(default_factory=dict)


async def _sample(watcher: Watcher, pair: Pair, count: int) -> None:
    for n in range(count):
        pause = n % 2 == 0
        wanted = "paused" if pause else "printing"
        since = time.monotonic()
        await pair.flip(pause)
        for label, entity_id in pair.watched.items():
            try:
                at = await watcher.reached(entity_id, wanted, since, WAIT_S)
            except TimeoutError:
                at = float("inf")
            pair.samples.setdefault(label, []).append(at - since)
        await asyncio.sleep(0.5 + random.random())  # noqa: S311 - spacing, not security


def _job_flip(sim: SimulatedPrinter) -> Callable[[bool], Awaitable[None]]:
    async def flip(pause: bool) -> None:
        if pause:
            sim.job.pause()
        else:
            sim.job.resume()

    return flip


async def _status_entity(api: HaApi, handler: str, entry_id: str, key: str) -> str:
    """The status sensor of a core integration's entry, once its setup has settled."""
    deadline = time.monotonic() + 90
    while True:
        entries = await api.get(f"{ENTRIES}?domain={handler}")
        state = next((e.get("state") for e in entries if e["entry_id"] == entry_id), None)
        registry = await api.ws_command({"type": "config/entity_registry/list"})
        mine = [
            e
            for e in registry
            if e.get("config_entry_id") == entry_id and str(e["entity_id"]).startswith("sensor.")
        ]
        sensors = [str(e["entity_id"]) for e in mine]
        found = [
            str(e["entity_id"])
            for e in mine
            if e.get("translation_key") == key or key in str(e["entity_id"])
        ]
        if found:
            return found[0]
        if state in ("setup_error", "setup_retry", "failed_unload") or time.monotonic() > deadline:
            raise RuntimeError(f"{handler}: entry {state}, no *{key}* sensor among {sensors}")
        await asyncio.sleep(1.0)


async def _core_flow(
    api: HaApi, handler: str, answer: dict[str, Any], approve: Callable[[], Awaitable[int]] | None
) -> str:
    """Add an HA core integration through its config flow; the new entry's id."""
    result = await api.post(FLOW, json={"handler": handler})
    flow_id = result["flow_id"]
    result = await api.post(f"{FLOW}/{flow_id}", json=answer)
    deadline = time.monotonic() + 60
    while result.get("type") in ("progress", "form") and time.monotonic() < deadline:
        if result.get("type") == "form":
            raise RuntimeError(f"{handler} flow: {result.get('errors')}")
        if approve is not None:
            await approve()
        await asyncio.sleep(0.5)
        with contextlib.suppress(HaApiError):
            result = await api.get(f"{FLOW}/{flow_id}")
            if result.get("type") == "progress_done":
                result = await api.post(f"{FLOW}/{flow_id}", json={})
    if result.get("type") != "create_entry":
        raise RuntimeError(f"{handler} flow ended {result}")
    return str(result["result"]["entry_id"])


async def _simulated(stack: Stack, pairs: list[Pair], sims: list[SimulatedPrinter]) -> str:
    """printfarm on one simulator per kind; HA core's prusalink on the PrusaLink one.

    Returns "measured", or why HA core's prusalink was left out.
    """
    lines = []
    for kind in SIMULATORS:
        job = PrintJob(file=f"{kind}.gcode", duration_s=4 * 3600, heat_s=0.0)
        extra = {"variant": "buddy"} if kind == "prusalink" else {}
        sim = simulator_class(kind)(job, FrameSource(), SimOptions(extra=extra))
        sims.append(sim)
        lines.append(await sim.start())
    added = await stack.add(lines)
    await read_statuses(stack.api, added)
    for sim, result in zip(sims, added, strict=True):
        if result.status_entity is None:
            raise RuntimeError(f"{sim.kind}: no status entity ({result.outcome}, {result.state})")
        watched = {"printfarm": result.status_entity}
        pairs.append(Pair(f"{sim.kind} sim", _job_flip(sim), watched))
    prusa = next(p for p, s in zip(pairs, sims, strict=True) if s.kind == "prusalink")
    line = lines[list(SIMULATORS).index("prusalink")]
    try:
        entry_id = await _core_flow(
            stack.api,
            "prusalink",
            {
                "host": f"http://{line['host']}:{line['port']}",
                "username": line["username"],
                "password": line["password"],
            },
            None,
        )
        status = await _status_entity(stack.api, "prusalink", entry_id, "printer_state")
    except (RuntimeError, HaApiError) as err:
        return f"failed: {err}"
    prusa.watched["HA core"] = status
    return "measured"


async def _real_octoprint(stack: Stack, pairs: list[Pair], stop: list[Callable[[], None]]) -> str:
    """printfarm and HA core's octoprint on one real OctoPrint; '' or why it was left out."""
    try:
        from tests.interop.octoprint_peer import UNAVAILABLE, RealOctoPrint, octoprint_binary
    except ImportError as err:
        return f"tests/interop not importable: {err}"
    if UNAVAILABLE.exists() or not octoprint_binary().exists():
        return "real OctoPrint not installed (bash scripts/interop/octoprint.sh)"
    peer = RealOctoPrint(discovery_on_loopback=True)
    await asyncio.to_thread(peer.start)
    stop.append(peer.stop)
    session = stack.api.session
    await peer.connect_printer(session)
    await peer.start_job(session, "bench.gcode", 3600)
    line = {
        "kind": "octoprint",
        "name": "OctoPrint real",
        "host": peer.host,
        "port": peer.port,
        "api_key": peer.admin_key,
    }
    added = await stack.add([line])
    await read_statuses(stack.api, added)
    if added[0].status_entity is None:
        return f"printfarm could not add the real OctoPrint: {added[0].outcome}"

    async def approve() -> int:
        return await peer.approve_pending(session, "Home Assistant")

    entry_id = await _core_flow(
        stack.api,
        "octoprint",
        {
            "host": peer.host,
            "port": peer.port,
            "path": "/",
            "ssl": False,
            "verify_ssl": False,
            "username": "admin",
        },
        approve,
    )
    status = await _status_entity(stack.api, "octoprint", entry_id, "current_state")

    async def flip(pause: bool) -> None:
        action = "pause" if pause else "resume"
        status, body = await peer.admin(
            session, "POST", "api/job", {"command": "pause", "action": action}
        )
        if status != 204:
            raise RuntimeError(f"OctoPrint refused {action}: {status} {body}")

    pairs.append(
        Pair(
            "octoprint real",
            flip,
            {"printfarm": str(added[0].status_entity), "HA core": status},
        )
    )
    return ""


def _rows(section: Section, pairs: list[Pair]) -> None:
    for pair in pairs:
        for label, values in pair.samples.items():
            finite = [v for v in values if v != float("inf")]
            p50, p95, p99 = (1000 * percentile(values, q) for q in (0.5, 0.95, 0.99))
            push = label == "printfarm" and pair.name.split()[0] in PUSH_KINDS
            goal = ""
            if push:
                goal = f"; goal p99 <= {GOAL_P99_MS:g}: {'met' if p99 <= GOAL_P99_MS else 'MISSED'}"
            lost = len(values) - len(finite)
            section.add(
                f"{pair.name}: {label}",
                round(p99, 1),
                "ms",
                f"p99; p50 {p50:.0f}, p95 {p95:.0f}, n={len(values)}"
                + (f", {lost} not seen in {WAIT_S:g} s" if lost else "")
                + ("" if push else "; polled")
                + goal,
            )
            section.info["samples_ms"][f"{pair.name}: {label}"] = [
                round(1000 * v, 1) if v != float("inf") else None for v in values
            ]


async def _measure(base: Path, args: Any, section: Section) -> None:
    section.info = {
        **environment(),
        "samples": args.samples,
        "samples_beside_ha_core": args.core_samples,
        "timing_sensitive": True,
    }
    section.info["samples_ms"] = {}
    missing = missing_requirements(list(CORE_REQUIREMENTS))
    if missing:
        await asyncio.to_thread(install, missing)
    sims: list[SimulatedPrinter] = []
    stops: list[Callable[[], None]] = []
    try:
        async with home_assistant(base) as stack:
            pairs: list[Pair] = []
            section.info["core_prusalink"] = await _simulated(stack, pairs, sims)
            try:
                left_out = await _real_octoprint(stack, pairs, stops)
            except (RuntimeError, HaApiError, OSError, AssertionError) as err:
                left_out = f"failed: {err}"
            section.info["real_octoprint"] = left_out or "measured"
            if left_out:
                sys.stderr.write(f"latency: the real OctoPrint is left out: {left_out}\n")
            watcher = Watcher(stack.api)
            await watcher.start()
            await asyncio.sleep(5.0)  # every entry has its first state
            try:  # printers are independent: all sampled at once
                counts = [args.core_samples if len(p.watched) > 1 else args.samples for p in pairs]
                await asyncio.gather(
                    *(_sample(watcher, p, n) for p, n in zip(pairs, counts, strict=True))
                )
            finally:
                await watcher.stop()
            _rows(section, pairs)
    finally:
        for sim in sims:
            with contextlib.suppress(Exception):
                await sim.stop()
        for stop in stops:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(stop)


def run(args: Any) -> Section:
    """Start Home Assistant and the printers in a temporary folder, measure, stop everything."""
    section = Section("latency")
    with tempfile.TemporaryDirectory(prefix="printfarm-bench-") as tmp:
        asyncio.run(_measure(Path(tmp), args, section))
    return section
