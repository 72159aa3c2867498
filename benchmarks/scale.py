"""Benchmark section "scale": one real Home Assistant with 10, 50 and 100 simulated printers.

The printers are mixed kinds in equal shares (Bambu reporting every second,
Klipper pushing four times a second, OctoPrint and Elegoo pushing, PrusaLink
polled), printing in real time, added through printfarm's config flow. Sizes
grow in the same Home Assistant process (``--printers 10,50,100``: 10 added,
measured, 40 more added, measured, ...). After ``--warmup`` seconds each size
is measured for ``--window`` seconds:

* HA CPU: CPU seconds of the Home Assistant process / wall seconds (share of
  one core);
* state writes per second (``state_changed`` events over the WebSocket API,
  every entity) against state messages per second the printers sent
  (counted by the simulators, simulator/traffic.py), with the entities that
  wrote most;
* longest event-loop stall, seen from outside: a WebSocket ``ping`` every
  50 ms, the longest and the 99th percentile round trip (an upper bound: the
  benchmark's own process and the machine's load add to it);
* resident memory per printer: (resident memory now - before the first
  printer) / printers.

Timing-sensitive: on a shared machine every number moves with the load; the
load average at the start is recorded with them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import contextlib
from pathlib import Path
import tempfile
import time
from typing import Any

from simulator.runner import SIMULATORS

from . import Section
from .stack import Stack, cpu_seconds, environment, home_assistant, memory_mb, websocket

PING_EVERY_S = 0.05
GOAL_CPU = 15.0  # percent of one core at 50 printers
GOAL_STALL_MS = 100.0
GOAL_MB = 2.0


def kind_counts(total: int) -> dict[str, int]:
    """``total`` printers in equal shares of every kind (the first kinds take the rest)."""
    kinds = list(SIMULATORS)
    share, rest = divmod(total, len(kinds))
    return {kind: share + (1 if i < rest else 0) for i, kind in enumerate(kinds)}


def farm_args(counts: dict[str, int]) -> list[str]:
    """scripts/simulate arguments for these counts."""
    args: list[str] = []
    for kind, count in counts.items():
        args += [f"--{kind}", str(count)]
    return args


async def _count_writes(stack: Stack, counter: Counter[str], stop: asyncio.Event) -> None:
    ws = await websocket(stack.api)
    try:
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
        while not stop.is_set():
            try:
                message = await ws.receive_json(timeout=0.5)
            except TimeoutError:
                continue
            event = message.get("event") if isinstance(message, dict) else None
            if isinstance(event, dict):
                counter[str((event.get("data") or {}).get("entity_id"))] += 1
    finally:
        await ws.close()


async def _ping(stack: Stack, rtts: list[float], stop: asyncio.Event) -> None:
    ws = await websocket(stack.api)
    try:
        n = 1
        while not stop.is_set():
            n += 1
            sent = time.monotonic()
            await ws.send_json({"id": n, "type": "ping"})
            while True:
                message = await ws.receive_json(timeout=30)
                if message.get("id") == n:
                    break
            rtts.append(time.monotonic() - sent)
            await asyncio.sleep(PING_EVERY_S)
    finally:
        await ws.close()


async def _window(stack: Stack, seconds: float) -> dict[str, Any]:
    """One measurement window on the running stack."""
    writes: Counter[str] = Counter()
    rtts: list[float] = []
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_count_writes(stack, writes, stop)),
        asyncio.create_task(_ping(stack, rtts, stop)),
    ]
    await asyncio.sleep(1.0)  # both subscribed
    sent0, cpu0, t0 = await stack.traffic(), cpu_seconds(stack.hass.pid), time.monotonic()
    writes.clear()
    rtts.clear()
    await asyncio.sleep(seconds)
    sent1, cpu1, t1 = await stack.traffic(), cpu_seconds(stack.hass.pid), time.monotonic()
    counted = sum(writes.values())
    stop.set()
    for task in tasks:
        with contextlib.suppress(Exception):
            await task
    wall = t1 - t0
    sent = {kind: sent1.get(kind, 0) - sent0.get(kind, 0) for kind in sent1}
    rtts.sort()
    return {
        "wall_s": round(wall, 1),
        "cpu_share": (cpu1 - cpu0) / wall,
        "writes_per_s": counted / wall,
        "messages_per_s": sum(sent.values()) / wall,
        "messages_per_s_by_kind": {k: round(v / wall, 2) for k, v in sorted(sent.items())},
        "top_writers_per_s": {e: round(c / wall, 2) for e, c in writes.most_common(8)},
        "ping_max_ms": 1000 * rtts[-1] if rtts else float("nan"),
        "ping_p99_ms": 1000 * rtts[min(len(rtts) - 1, int(0.99 * len(rtts)))]
        if rtts
        else float("nan"),
        "pings": len(rtts),
    }


async def _measure(base: Path, args: Any, section: Section) -> None:
    sizes = sorted({int(s) for s in str(args.printers).split(",") if s.strip()})
    section.info = {
        **environment(),
        "sizes": sizes,
        "warmup_s": args.warmup,
        "window_s": args.window,
        "timing_sensitive": True,
        "per_size": {},
    }
    async with home_assistant(base) as stack:
        baseline_mb, _peak = memory_mb(stack.hass.pid)
        section.info["ha_resident_mb_without_printers"] = round(baseline_mb, 1)
        have: dict[str, int] = dict.fromkeys(SIMULATORS, 0)
        for size in sizes:
            want = kind_counts(size)
            more = {k: want[k] - have[k] for k in want if want[k] > have[k]}
            added = await stack.add(await stack.farm(farm_args(more)))
            loaded = sum(1 for a in added if a.state == "loaded")
            have = want
            await asyncio.sleep(args.warmup)
            result = await _window(stack, args.window)
            rss, _peak = memory_mb(stack.hass.pid)
            result["resident_mb"] = round(rss, 1)
            result["mb_per_printer"] = (rss - baseline_mb) / size
            result["loaded_of_added"] = f"{loaded}/{len(added)}"
            section.info["per_size"][str(size)] = result
            _rows(section, size, result)


def _rows(section: Section, size: int, r: dict[str, Any]) -> None:
    at = f"{size:>3} printers"
    goal = size == 50
    cpu = 100 * r["cpu_share"]
    section.add(
        f"{at}: HA CPU",
        round(cpu, 1),
        "%",
        f"of one core; goal <= {GOAL_CPU:g} %: {'met' if cpu <= GOAL_CPU else 'MISSED'}"
        if goal
        else "of one core",
    )
    section.add(
        f"{at}: state writes",
        round(r["writes_per_s"], 1),
        "/s",
        f"for {r['messages_per_s']:.1f} printer messages/s",
    )
    stall = r["ping_max_ms"]
    section.add(
        f"{at}: longest stall",
        round(stall, 1),
        "ms",
        f"WebSocket ping max (p99 {r['ping_p99_ms']:.0f} ms)"
        + (f"; goal <= {GOAL_STALL_MS:g} ms: {'met' if stall <= GOAL_STALL_MS else 'MISSED'}"
           if goal else ""),
    )  # fmt: skip
    mb = r["mb_per_printer"]
    section.add(
        f"{at}: memory/printer",
        round(mb, 2),
        "MB",
        f"HA resident {r['resident_mb']:.0f} MB"
        + (f"; goal <= {GOAL_MB:g} MB: {'met' if mb <= GOAL_MB else 'MISSED'}" if goal else ""),
    )


def run(args: Any) -> Section:
    """Start Home Assistant in a temporary folder, grow the farm, measure each size."""
    section = Section("scale")
    with tempfile.TemporaryDirectory(prefix="printfarm-bench-") as tmp:
        asyncio.run(_measure(Path(tmp), args, section))
    return section
