"""The simulated farm: ``scripts/simulate`` and the JSON line it prints per printer."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from simulator.runner import build_parser, plan

from .layout import Layout
from .processes import Child

DEFAULT_SPEED = 5.0


class FarmError(Exception):
    """The simulated farm did not start."""


def simulate_argv(layout: Layout, speed: float, extra: list[str]) -> list[str]:
    """The scripts/simulate command line (speed first, so ``extra`` may override it)."""
    return [str(layout.repo / "scripts" / "simulate"), "--speed", str(speed), *extra]


def expected_printers(speed: float, extra: list[str]) -> int:
    """How many printers scripts/simulate starts with these arguments (its own parser)."""
    args = build_parser().parse_args(["--speed", str(speed), *extra])
    return len(plan(args))


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """A printer's line, or None for anything that is not one."""
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if not isinstance(data, dict) or "kind" not in data or "port" not in data:
        return None
    return data


async def read_lines(child: Child, count: int, timeout: float) -> list[dict[str, Any]]:
    """Read ``count`` printer lines from the child's stdout within ``timeout`` seconds."""
    stdout = child.process.stdout
    if stdout is None:
        raise FarmError("the simulator's output is not captured")
    lines: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(lines) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FarmError(f"only {len(lines)} of {count} printers started in {timeout:.0f} s")
        try:
            raw = await asyncio.wait_for(stdout.readline(), remaining)
        except TimeoutError:
            continue
        if not raw:
            await child.process.wait()
            raise FarmError(
                f"scripts/simulate exited ({child.process.returncode}) after "
                f"{len(lines)} of {count} printers"
            )
        if (line := parse_line(raw)) is not None:
            lines.append(line)
    return lines


async def start_farm(
    layout: Layout, speed: float, extra: list[str], timeout: float = 120.0
) -> tuple[Child, list[dict[str, Any]]]:
    """Start scripts/simulate; the child and one line per printer."""
    count = expected_printers(speed, extra)
    if count == 0:
        raise FarmError("no printers asked for")
    child = await Child.start(
        "scripts/simulate",
        simulate_argv(layout, speed, extra),
        cwd=layout.repo,
        log=layout.simulate_log,
        capture_stdout=True,
    )
    try:
        lines = await read_lines(child, count, timeout)
    except BaseException:
        await child.stop()
        raise
    return child, lines
