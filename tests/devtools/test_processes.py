"""Children in their own process group, their lines read, and stopped whatever they do."""

from __future__ import annotations

import json
import os
from pathlib import Path
import signal
import sys
import time

import pytest

from devtools.farm import FarmError, expected_printers, parse_line, read_lines, simulate_argv
from devtools.layout import Layout
from devtools.processes import Child

LINE = {"kind": "moonraker", "name": "m", "host": "127.0.0.1", "port": 1}


def gone(pid: int) -> bool:
    """Whether pid no longer runs (exited and reaped, or a zombie)."""
    try:
        with Path(f"/proc/{pid}/stat").open() as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def python_child(tmp_path: Path, code: str) -> Child:
    return await Child.start(
        "test child",
        [sys.executable, "-c", code],
        cwd=tmp_path,
        log=tmp_path / "child.log",
        capture_stdout=True,
    )


async def test_lines_are_read_and_the_group_is_stopped(tmp_path: Path) -> None:
    code = f"""
import json, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
# written before the lines the test waits for, so it is in the log when they arrive
print("to the log", file=sys.stderr, flush=True)
print("not json", flush=True)
print(json.dumps({json.dumps(LINE)}), flush=True)
print(json.dumps({{"kind": "elegoo", "port": 2, "grandchild": grandchild.pid}}), flush=True)
time.sleep(600)
"""
    child = await python_child(tmp_path, code)
    assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    lines = await read_lines(child, 2, timeout=30)
    assert lines[0] == LINE
    grandchild = lines[1]["grandchild"]
    assert child.running
    assert await child.stop(timeout=10) == -signal.SIGTERM
    assert child.process.returncode is not None
    assert wait_gone(grandchild)
    assert child.log_tail() == "to the log"


async def test_a_child_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    code = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print('{"kind": "bambu", "port": 3}', flush=True)
time.sleep(600)
"""
    child = await python_child(tmp_path, code)
    await read_lines(child, 1, timeout=30)  # the handler is installed
    assert await child.stop(timeout=0.5) == -signal.SIGKILL


async def test_a_farm_that_dies_early_is_reported(tmp_path: Path) -> None:
    code = """
import sys
print('{"kind": "bambu", "port": 3}', flush=True)
print("simulate: mosquitto missing", file=sys.stderr)
sys.exit(1)
"""
    child = await python_child(tmp_path, code)
    with pytest.raises(FarmError, match=r"exited \(1\) after 1 of 5"):
        await read_lines(child, 5, timeout=30)
    assert "mosquitto" in child.log_tail()


async def test_a_silent_farm_times_out(tmp_path: Path) -> None:
    child = await python_child(tmp_path, "import time; time.sleep(600)")
    try:
        with pytest.raises(FarmError, match="only 0 of 1"):
            await read_lines(child, 1, timeout=0.3)
    finally:
        await child.stop()


def test_parse_line_takes_printer_lines_only() -> None:
    assert parse_line(json.dumps(LINE).encode()) == LINE
    assert parse_line(b"scripts/setup: .venv ready\n") is None
    assert parse_line(b'{"kind": "x"}') is None
    assert parse_line(b"[1, 2]") is None


def test_expected_printers_uses_the_simulators_own_plan() -> None:
    assert expected_printers(5.0, []) == 5
    assert expected_printers(5.0, ["--moonraker", "3"]) == 3
    assert expected_printers(5.0, ["--bambu", "2", "--elegoo", "1", "--failure-after", "9"]) == 3


def test_simulate_argv_lets_extra_arguments_override_speed() -> None:
    layout = Layout(repo=Path("/repo"), base=Path("/repo/.develop"))
    argv = simulate_argv(layout, 5.0, ["--speed", "2"])
    assert argv == ["/repo/scripts/simulate", "--speed", "5.0", "--speed", "2"]
