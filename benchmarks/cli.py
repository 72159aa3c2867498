"""scripts/bench: run benchmark sections, print a table, write JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import time

from . import Section, sections


def table(results: list[Section]) -> str:
    """A plain-text table of every section's rows."""
    lines = [f"{'section':<8} {'measure':<32} {'value':>10} {'unit':<5} note"]
    lines.append("-" * len(lines[0]))
    lines.extend(
        f"{s.name:<8} {r.name:<32} {r.value:>10g} {r.unit:<5} {r.note}".rstrip()
        for s in results
        for r in s.rows
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    known = sections()
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--section",
        action="append",
        choices=sorted(known),
        help="section to run (repeatable; default: all)",
    )
    parser.add_argument("--out", type=Path, default=Path("build/bench.json"), help="JSON output")
    parser.add_argument("--model", help="ONNX model for the model section (default: shipped)")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--printers", default="10,50,100", help="scale: farm sizes, grown in one HA (10,50,100)"
    )
    parser.add_argument(
        "--warmup", type=float, default=20.0, help="scale: seconds before each window"
    )
    parser.add_argument(
        "--window", type=float, default=60.0, help="scale/latency: seconds measured"
    )
    parser.add_argument("--samples", type=int, default=40, help="latency: changes per printer")
    parser.add_argument(
        "--core-samples", type=int, default=8, help="latency: changes where HA core watches too"
    )
    args = parser.parse_args(argv)

    results = [known[name](args) for name in (args.section or sorted(known))]
    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sections": {s.name: s.to_json() for s in results},
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0
