"""Run a fuzz target over many hostile inputs and count what happened to each.

The body of the Hypothesis test never fails: every outcome is counted
instead (typed error, escape, slow input), so one run covers every input
it was asked for and reports them all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import logging
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from custom_components.printfarm.printers.exceptions import PrinterError

from .hostile import edited_text, hostile_text
from .targets import TEXT_TARGETS, FuzzTarget

#: An input slower than this counts as slow (the event loop would stall as long).
SLOW_S = 0.100
#: How many escaping or slow inputs a tally keeps, shortened, for the report.
KEEP = 5


@dataclass
class Tally:
    """What the inputs of one target did."""

    target: str
    inputs: int = 0
    typed_errors: int = 0
    escapes: int = 0
    slow: int = 0
    slowest_ms: float = 0.0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def keep(self, what: str, text: str, detail: str) -> None:
        """Remember an input worth showing (the first few of each kind)."""
        if sum(1 for s in self.samples if s["what"] == what) < KEEP:
            shown = text if len(text) <= 200 else f"{text[:200]}... ({len(text)} chars)"
            self.samples.append({"what": what, "input": shown, "detail": detail[:300]})


class _FormattingHandler(logging.Handler):
    """Formats every record, as a user's debug log would; remembers failures."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.format(record)
        except Exception as err:
            self.failures.append(f"log formatting: {type(err).__name__}: {err}")


def run_target(
    target: FuzzTarget, *, examples: int, seed: int | None = None, derandomize: bool = False
) -> Tally:
    """Feed ``examples`` hostile inputs to ``target`` and count the outcomes."""
    tally = Tally(target.name)
    strategy: st.SearchStrategy[str] = (
        edited_text(target.seeds) if target.name in TEXT_TARGETS else hostile_text(target.seeds)
    )
    loop = asyncio.new_event_loop()
    handler = _FormattingHandler()
    package = logging.getLogger("custom_components.printfarm")
    old_level = package.level
    package.addHandler(handler)
    package.setLevel(logging.DEBUG)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def body(text: str) -> None:
        tally.inputs += 1
        handler.failures.clear()
        start = time.perf_counter()
        try:
            loop.run_until_complete(asyncio.wait_for(target.run(text), 30))
        except PrinterError:
            tally.typed_errors += 1
        except Exception as err:
            tally.escapes += 1
            tally.keep("escape", text, f"{type(err).__name__}: {err}")
        else:
            if handler.failures:
                tally.escapes += 1
                tally.keep("escape", text, handler.failures[0])
        elapsed = time.perf_counter() - start
        tally.slowest_ms = max(tally.slowest_ms, elapsed * 1000)
        if elapsed > SLOW_S:
            tally.slow += 1
            tally.keep("slow", text, f"{elapsed * 1000:.0f} ms")

    try:
        if seed is not None:
            from hypothesis import seed as fix_seed

            fix_seed(seed)(body)()
        else:
            body()
    finally:
        package.removeHandler(handler)
        package.setLevel(old_level)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return tally
