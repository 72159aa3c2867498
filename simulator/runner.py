"""``scripts/simulate``: a farm of simulated printers on 127.0.0.1.

Prints one JSON object per printer per line (kind, name, host, port and the
credentials a client needs), then runs until SIGINT or SIGTERM. SIGUSR1 makes
every printer fail its job (error state, as after a thermal fault); SIGUSR2
prints a line with the state messages sent so far per kind (simulator/traffic.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from importlib import import_module
import json
from pathlib import Path
import signal
import sys
from typing import TYPE_CHECKING, Any

from . import traffic
from .camera import DEFAULT_FAILURE, DEFAULT_NORMAL, FrameSource
from .job import PrintJob

if TYPE_CHECKING:
    from .base import SimOptions, SimulatedPrinter

#: kind -> (module, class) of its simulator; imported only when asked for.
SIMULATORS: dict[str, tuple[str, str]] = {
    "bambu": (".bambu", "BambuSimulator"),
    "moonraker": (".moonraker", "MoonrakerSimulator"),
    "octoprint": (".octoprint", "OctoPrintSimulator"),
    "prusalink": (".prusalink", "PrusaLinkSimulator"),
    "elegoo": (".elegoo", "ElegooSimulator"),
}

#: Demo jobs handed out round-robin so a farm does not print the same thing everywhere.
DEMO_JOBS: tuple[tuple[str, float, int], ...] = (
    ("3DBenchy.gcode", 2700.0, 240),
    ("calibration_cube.gcode", 1500.0, 100),
    ("phone_stand.gcode", 5400.0, 310),
    ("cable_clips_x8.gcode", 3600.0, 45),
    ("vase_spiral.gcode", 4800.0, 420),
)


def simulator_class(kind: str) -> type[SimulatedPrinter]:
    """The simulator class for ``kind``."""
    module_name, class_name = SIMULATORS[kind]
    module = import_module(module_name, __package__)
    cls: type[SimulatedPrinter] = getattr(module, class_name)
    return cls


def build_parser() -> argparse.ArgumentParser:
    """The runner's command line (the contract the demo, benchmarks and tests use)."""
    parser = argparse.ArgumentParser(
        prog="scripts/simulate",
        description="Run simulated printers that speak each brand's real protocol on loopback.",
    )
    for kind in SIMULATORS:
        parser.add_argument(f"--{kind}", type=int, default=None, metavar="N")
    parser.add_argument("--bambu-model", default="P1S", choices=["X1C", "P1S", "A1", "H2D"])
    parser.add_argument("--bambu-state", type=Path, help="start Bambu from a captured full report")
    parser.add_argument(
        "--bambu-ssdp-port",
        type=int,
        default=None,
        metavar="PORT",
        help="Bambu printers send their SSDP NOTIFY to this port of 127.0.0.1 (never broadcast)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument("--camera-normal", type=Path, default=DEFAULT_NORMAL)
    parser.add_argument("--camera-failure", type=Path, default=DEFAULT_FAILURE)
    parser.add_argument(
        "--failure-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="switch cameras to the failure frames after this many seconds",
    )
    parser.add_argument(
        "--failure-only",
        action="append",
        default=None,
        metavar="KIND",
        help="only printers of this kind switch to failure frames (repeatable; default: all)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--idle", action="store_true", help="start without a job")
    return parser


def plan(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(kind, index) for every printer asked for; one of each kind when none is named."""
    counts = {kind: getattr(args, kind) for kind in SIMULATORS}
    if all(count is None for count in counts.values()):
        counts = dict.fromkeys(SIMULATORS, 1)
    return [(kind, i) for kind, count in counts.items() for i in range(count or 0)]


def make_printer(
    kind: str, index: int, serial_no: int, args: argparse.Namespace
) -> SimulatedPrinter:
    """One simulated printer with its own job and camera."""
    from .base import SimOptions

    file, duration, layers = DEMO_JOBS[serial_no % len(DEMO_JOBS)]
    job = PrintJob(
        file=file,
        duration_s=duration,
        total_layers=layers,
        speed=args.speed,
        start_printing=not args.idle,
    )
    fails = not getattr(args, "failure_only", None) or kind in args.failure_only
    camera = FrameSource(
        args.camera_normal, args.camera_failure, args.failure_after if fails else None
    )
    options: SimOptions = SimOptions(index=index, host=args.host)
    if kind == "bambu":
        options.model = args.bambu_model
        options.state_file = str(args.bambu_state) if args.bambu_state else None
        if args.bambu_ssdp_port:
            options.extra["ssdp_port"] = args.bambu_ssdp_port
    if kind == "prusalink":
        options.extra["variant"] = "buddy" if index % 2 == 0 else "pi"
    return simulator_class(kind)(job, camera, options)


async def run(args: argparse.Namespace) -> int:
    """Start the farm, print its lines, run until told to stop."""
    printers = [make_printer(kind, i, n, args) for n, (kind, i) in enumerate(plan(args))]
    started: list[SimulatedPrinter] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    def fail_all() -> None:
        """SIGUSR1: every printer fails its job, as a real one would on a fault."""
        for printer in started:
            printer.job.fail()

    def print_traffic() -> None:
        """SIGUSR2: one line with the state messages sent so far (scripts/bench)."""
        print(json.dumps(traffic.report()), flush=True)

    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGUSR1, fail_all)
        loop.add_signal_handler(signal.SIGUSR2, print_traffic)
    try:
        for printer in printers:
            line: dict[str, Any] = await printer.start()
            started.append(printer)
            print(json.dumps(line), flush=True)
        await stop.wait()
    finally:
        for printer in reversed(started):
            with contextlib.suppress(Exception):
                await printer.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    if args.speed <= 0:
        print("simulate: --speed must be positive", file=sys.stderr)
        return 2
    for folder in (args.camera_normal, args.camera_failure):
        if not folder.is_dir():
            print(f"simulate: {folder} is not a folder of JPEG frames", file=sys.stderr)
            return 2
    try:
        return asyncio.run(run(args))
    except (OSError, RuntimeError, ValueError) as err:
        print(f"simulate: {err}", file=sys.stderr)
        return 1
