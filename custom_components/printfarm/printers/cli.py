"""``scripts/probe``: talk to one printer from a shell, without Home Assistant.

    scripts/probe octoprint --host 10.0.0.5 --api-key KEY status
    scripts/probe bambu --host 10.0.0.7 --serial 01P00A... --access-code 12345678 watch

Prints one JSON object per line; exits non-zero with a one-line reason on failure.
Secrets may also come from PRINTFARM_ACCESS_CODE, PRINTFARM_API_KEY and
PRINTFARM_PASSWORD so they stay out of shell history. They are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import contextlib
import json
import os
from pathlib import Path
import signal
import sys
from typing import TYPE_CHECKING, Any

import aiohttp

from .exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterProtocolError,
)
from .factory import create_client
from .models import ConnectionOptions, PrinterKind, PrinterState

if TYPE_CHECKING:
    from .base import PrinterClient

#: The fields ``status`` and ``watch`` print, in this order.
STATUS_FIELDS = (
    "kind",
    "name",
    "model",
    "firmware",
    "status",
    "native_status",
    "progress",
    "remaining_s",
    "elapsed_s",
    "job",
    "layer",
    "total_layers",
    "nozzle_temp",
    "nozzle_target",
    "bed_temp",
    "bed_target",
    "chamber_temp",
    "error",
)

EXIT_CODES: tuple[tuple[type[PrinterError], int], ...] = (
    (PrinterAuthError, 3),
    (PrinterCommandError, 4),
    (PrinterProtocolError, 5),
    (PrinterConnectionError, 1),
    (PrinterError, 1),
)


def status_line(client: PrinterClient, state: PrinterState | None = None) -> dict[str, Any]:
    """The probe's JSON object for the client's current (or given) state."""
    state = state or client.state
    info = client.info
    values: dict[str, Any] = {
        "kind": info.kind.value,
        "name": info.name,
        "model": info.model,
        "firmware": info.firmware,
    }
    for name in STATUS_FIELDS[4:]:
        values[name] = getattr(state, name)
    values["status"] = state.status.value
    if values["progress"] is not None:
        values["progress"] = round(float(values["progress"]), 1)
    return values


def _emit(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The probe's command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/probe", description="Query or control one printer without Home Assistant."
    )
    parser.add_argument("kind", choices=[k.value for k in PrinterKind])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--serial")
    parser.add_argument("--access-code", default=os.environ.get("PRINTFARM_ACCESS_CODE"))
    parser.add_argument("--api-key", default=os.environ.get("PRINTFARM_API_KEY"))
    parser.add_argument("--username")
    parser.add_argument("--password", default=os.environ.get("PRINTFARM_PASSWORD"))
    parser.add_argument("--camera-port", type=int)
    parser.add_argument("--model", help="model hint (Bambu: X1C, P1S, A1, H2D ...)")
    parser.add_argument("--ca-file", help="extra CA certificate (Bambu simulator)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="kind-specific option, repeatable",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds for connect and commands"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("status", "print the current state as one JSON line"),
        ("watch", "print a JSON line whenever the state changes (Ctrl-C stops)"),
        ("pause", "pause the job and wait until the printer reports it"),
        ("resume", "resume the job and wait until the printer reports it"),
        ("stop", "cancel the job and wait until the printer reports it"),
    ):
        commands.add_parser(name, help=text)
    snap = commands.add_parser("snapshot", help="save one camera frame as JPEG")
    snap.add_argument("file", type=Path)
    return parser


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


#: ``--option KEY=VALUE``: the ConnectionOptions fields a command line may set, typed.
OPTIONS: dict[str, Callable[[str], Any]] = {
    "name": str,
    "poll_interval": float,
    "stale_after": float,
    "ssl": _flag,
    "path": str,
    "push": _flag,
}


def options_from_args(args: argparse.Namespace) -> ConnectionOptions:
    """Turn parsed arguments into ConnectionOptions."""
    extra: dict[str, Any] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or key not in OPTIONS:
            raise SystemExit(
                f"probe: --option wants KEY=VALUE with KEY one of {', '.join(OPTIONS)}, "
                f"got {item!r}"
            )
        try:
            extra[key] = OPTIONS[key](value)
        except ValueError:
            raise SystemExit(f"probe: --option {key} cannot be {value!r}") from None
    return ConnectionOptions(
        kind=PrinterKind(args.kind),
        host=args.host,
        port=args.port,
        serial=args.serial,
        access_code=args.access_code,
        api_key=args.api_key,
        username=args.username,
        password=args.password,
        camera_port=args.camera_port,
        model=args.model,
        ca_file=args.ca_file,
        **extra,
    )


async def _watch(client: PrinterClient) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    last: dict[str, Any] = status_line(client)
    _emit(last)

    def on_state(state: PrinterState) -> None:
        nonlocal last
        line = status_line(client, state)
        if line != last:
            last = line
            _emit(line)

    remove = client.add_listener(on_state)
    try:
        await stop.wait()
    finally:
        remove()


async def run(args: argparse.Namespace) -> int:
    """Execute one probe command; returns the exit code."""
    options = options_from_args(args)
    async with aiohttp.ClientSession() as session:
        client = create_client(options, session)
        try:
            async with asyncio.timeout(args.timeout):
                await client.connect()
            if args.command == "status":
                _emit(status_line(client))
            elif args.command == "watch":
                await _watch(client)
            elif args.command == "snapshot":
                async with asyncio.timeout(args.timeout):
                    data = await client.snapshot()
                await asyncio.to_thread(args.file.write_bytes, data)
                _emit({"file": str(args.file), "bytes": len(data)})
            else:
                command = getattr(client, args.command)
                async with asyncio.timeout(args.timeout):
                    await command()
                _emit(status_line(client))
        finally:
            await client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; maps printfarm errors to one-line reasons and exit codes."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130
    except TimeoutError:
        reason = f"timed out after {args.timeout:g} s"
        print(f"probe: {args.kind} {args.host}: {reason}", file=sys.stderr)
        return 1
    except PrinterError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"probe: {args.kind} {args.host}: {reason}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(err, kind))


if __name__ == "__main__":
    raise SystemExit(main())
