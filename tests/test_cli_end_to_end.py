"""scripts/simulate and scripts/probe, run as a user runs them, against each other."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import signal
import sys
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE_FIELDS = {
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
}
FLAG_KEYS = ("port", "serial", "access_code", "api_key", "username", "password", "camera_port")


def probe_args(line: dict[str, Any]) -> list[str]:
    """Probe flags for a simulator line."""
    args = [line["kind"], "--host", line["host"]]
    for key in FLAG_KEYS:
        if line.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", str(line[key])]
    ca_file = (line.get("extra") or {}).get("ca_file")  # the rest describes the simulator
    if ca_file:
        args += ["--ca-file", str(ca_file)]
    return args


async def run_probe(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """Run the probe CLI the way scripts/probe does (printers as a top-level package)."""
    link_dir = tmp_path / "path"
    link_dir.mkdir(exist_ok=True)
    link = link_dir / "printers"
    if not link.exists():
        link.symlink_to(ROOT / "custom_components" / "printfarm" / "printers")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "printers.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PYTHONPATH": str(link_dir), "PATH": "/usr/bin:/bin"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def farm() -> Any:
    """scripts/simulate with one printer of each kind, fast clock."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--speed",
        "20",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            while len(lines) < 5:
                raw = await proc.stdout.readline()
                if not raw:
                    assert proc.stderr is not None
                    err = (await proc.stderr.read()).decode()
                    pytest.fail(f"simulate exited early: {err}")
                lines.append(json.loads(raw))
        yield proc, lines
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 30)


async def test_simulated_farm_answers_the_probe(farm: Any, tmp_path: Path) -> None:
    proc, lines = farm
    assert {line["kind"] for line in lines} == {
        "bambu",
        "moonraker",
        "octoprint",
        "prusalink",
        "elegoo",
    }
    for line in lines:
        assert {"kind", "name", "host", "port"} <= line.keys()
        rc, out, err = await run_probe(tmp_path, *probe_args(line), "status")
        assert rc == 0, err
        status = json.loads(out)
        assert set(status) == PROBE_FIELDS
        assert status["kind"] == line["kind"]
        assert status["status"] in {"preparing", "printing"}, status

        rc, out, err = await run_probe(tmp_path, *probe_args(line), "pause")
        assert rc == 0, err
        assert json.loads(out)["status"] == "paused"
        rc, out, err = await run_probe(tmp_path, *probe_args(line), "resume")
        assert rc == 0, err
        assert json.loads(out)["status"] in {"preparing", "printing"}

    # SIGUSR1 tells every simulated printer to fail.
    proc.send_signal(signal.SIGUSR1)
    for line in lines:
        rc, out, err = await run_probe(tmp_path, *probe_args(line), "status")
        assert rc == 0, err
        status = json.loads(out)
        assert status["status"] == "error", status
        assert status["error"]

    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_probe_reports_unreachable_printer_in_one_line(tmp_path: Path) -> None:
    rc, out, err = await run_probe(
        tmp_path, "octoprint", "--host", "127.0.0.1", "--port", "1", "status"
    )
    assert rc == 1
    assert out == ""
    assert err.startswith("probe: octoprint 127.0.0.1: ")
    assert len(err.strip().splitlines()) == 1


async def test_probe_reports_bad_credentials(farm: Any, tmp_path: Path) -> None:
    _proc, lines = farm
    octoprint = next(line for line in lines if line["kind"] == "octoprint")
    line = {**octoprint, "api_key": "WRONG"}
    rc, _out, err = await run_probe(tmp_path, *probe_args(line), "status")
    assert rc == 3, err
    assert "WRONG" not in err
