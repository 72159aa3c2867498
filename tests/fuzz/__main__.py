"""``python -m tests.fuzz`` (what scripts/fuzz runs): a long fuzz of every target.

Prints, per target, the inputs tried, the typed errors, the escapes (any
other exception, or a good message that did not reach the state after a
bad one) and the slow inputs (over 100 ms), and writes them as JSON.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
import json
from pathlib import Path
import sys
import time

from .engine import SLOW_S, run_target
from .targets import TARGETS


def main(argv: list[str] | None = None) -> int:
    """Fuzz the targets asked for; exit 1 when any input escaped or was slow."""
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=2000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run exactly")
    parser.add_argument("--target", action="append", help="only these targets (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("build/fuzz.json"))
    args = parser.parse_args(argv)
    chosen = [t for t in TARGETS if not args.target or t.name in args.target]
    if not chosen:
        print(f"no such target; known: {', '.join(t.name for t in TARGETS)}", file=sys.stderr)
        return 2
    print(
        f"{'target':<22}{'inputs':>8}{'typed errors':>14}{'escapes':>9}{'slow':>6}"
        f"{'slowest ms':>12}"
    )
    tallies = []
    started = time.monotonic()
    for target in chosen:
        tally = run_target(target, examples=args.examples, seed=args.seed)
        tallies.append(tally)
        print(
            f"{tally.target:<22}{tally.inputs:>8}{tally.typed_errors:>14}"
            f"{tally.escapes:>9}{tally.slow:>6}{tally.slowest_ms:>12.1f}",
            flush=True,
        )
    total = {
        "inputs": sum(t.inputs for t in tallies),
        "typed_errors": sum(t.typed_errors for t in tallies),
        "escapes": sum(t.escapes for t in tallies),
        "slow": sum(t.slow for t in tallies),
    }
    print(
        f"{'total':<22}{total['inputs']:>8}{total['typed_errors']:>14}"
        f"{total['escapes']:>9}{total['slow']:>6}   ({time.monotonic() - started:.0f} s, "
        f"slow = over {SLOW_S * 1000:.0f} ms)"
    )
    for tally in tallies:
        for sample in tally.samples:
            print(f"  {tally.target} {sample['what']}: {sample['detail']}")
            print(f"    input: {sample['input']!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"total": total, "targets": [asdict(t) for t in tallies]}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")
    return 1 if total["escapes"] or total["slow"] else 0


if __name__ == "__main__":
    sys.exit(main())
