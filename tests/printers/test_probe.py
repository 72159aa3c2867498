"""The probe CLI in-process: each command against a simulator, and its error exit codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.printfarm.printers import PrinterAuthError
from custom_components.printfarm.printers.cli import build_parser, main, options_from_args, run
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class

ARGUMENTS = {
    "serial": "--serial",
    "access_code": "--access-code",
    "api_key": "--api-key",
    "username": "--username",
    "password": "--password",
    "camera_port": "--camera-port",
}


def probe_args(line: dict[str, Any], *command: str, **override: Any) -> list[str]:
    """What a user types after ``scripts/probe`` for a simulator's JSON line."""
    values = {**line, **override}
    argv = [values["kind"], "--host", values["host"], "--port", str(values["port"])]
    for key, flag in ARGUMENTS.items():
        if values.get(key) is not None:
            argv += [flag, str(values[key])]
    ca_file = (values.get("extra") or {}).get("ca_file")  # the rest describes the simulator
    if ca_file:
        argv += ["--ca-file", str(ca_file)]
    return [*argv, "--timeout", "20", *command]


@pytest.fixture
async def simulated(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """A printing simulator of the parametrized kind; its JSON line."""
    job = PrintJob(duration_s=600, heat_s=0, start_printing=True)
    sim: SimulatedPrinter = simulator_class(request.param)(job, FrameSource(), SimOptions())
    try:
        line = await sim.start()
    except (RuntimeError, OSError) as err:
        pytest.fail(f"{request.param} simulator cannot start: {err}")
    yield line
    await sim.stop()


@pytest.mark.parametrize(
    "simulated", ["moonraker", "octoprint", "prusalink", "elegoo", "bambu"], indirect=True
)
async def test_status_prints_one_json_line(
    simulated: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(probe_args(simulated, "status"))
    assert await run(args) == 0
    status = json.loads(capsys.readouterr().out.strip())
    assert status["kind"] == simulated["kind"]
    assert status["status"] in {"preparing", "printing"}


@pytest.mark.parametrize("simulated", ["moonraker"], indirect=True)
async def test_pause_resume_and_snapshot(
    simulated: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    parser = build_parser()
    assert await run(parser.parse_args(probe_args(simulated, "pause"))) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "paused"
    assert await run(parser.parse_args(probe_args(simulated, "resume"))) == 0
    assert json.loads(capsys.readouterr().out)["status"] in {"printing", "preparing"}
    frame = tmp_path / "frame.jpg"
    assert await run(parser.parse_args(probe_args(simulated, "snapshot", str(frame)))) == 0
    assert json.loads(capsys.readouterr().out) == {
        "file": str(frame),
        "bytes": frame.stat().st_size,
    }
    assert frame.read_bytes().startswith(b"\xff\xd8")


@pytest.mark.parametrize("simulated", ["octoprint"], indirect=True)
async def test_wrong_key_raises_the_auth_error(simulated: dict[str, Any]) -> None:
    args = build_parser().parse_args(probe_args(simulated, "status", api_key="wrong"))
    with pytest.raises(PrinterAuthError):
        await run(args)


def test_unreachable_printer_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    code = main(["moonraker", "--host", "127.0.0.1", "--port", "9", "--timeout", "5", "status"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("probe: moonraker 127.0.0.1: ")


def test_options_and_secrets_from_the_command_line() -> None:
    bambu = ["bambu", "--host", "10.0.0.5", "--serial", "01P00A000000001"]
    extra = ["--option", "stale_after=5", "--ca-file", "/tmp/ca.pem"]
    args = build_parser().parse_args([*bambu, "--access-code", "12345678", *extra, "status"])
    options = options_from_args(args)
    assert options.access_code == "12345678"
    assert (options.stale_after, options.ca_file) == (5.0, "/tmp/ca.pem")
    elegoo = ["elegoo", "--host", "10.0.0.6"]
    bad = build_parser().parse_args([*elegoo, "--option", "novalue", "status"])
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        options_from_args(bad)
