"""Child processes scripts/develop starts, and stops again whatever happens.

Each child runs in its own session (process group), so the terminal's Ctrl-C
reaches only scripts/develop, which then stops Home Assistant first and the
simulators after it. On Linux each child also gets SIGTERM from the kernel
should scripts/develop itself die without cleaning up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
import ctypes
import os
from pathlib import Path
import signal
import sys
from typing import IO

PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec hook asking the kernel for SIGTERM when the parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


_PREEXEC = _parent_death_signal()


class Child:
    """One started process with its console output in a log file."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log: Path) -> None:
        """Wrap a started process."""
        self.name = name
        self.process = process
        self.log = log

    @classmethod
    async def start(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path,
        log: Path,
        env: Mapping[str, str] | None = None,
        capture_stdout: bool = False,
    ) -> Child:
        """Start ``argv``; stderr (and stdout unless captured) go to ``log``."""
        log.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[bytes]
        with log.open("wb") as handle:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE if capture_stdout else handle,
                stderr=handle,
                start_new_session=True,
                preexec_fn=_PREEXEC,  # only calls prctl, resolved before the fork
            )
        return cls(name, process, log)

    @property
    def pid(self) -> int:
        """The process id (also its process group id)."""
        return self.process.pid

    @property
    def running(self) -> bool:
        """Whether it has not exited yet."""
        return self.process.returncode is None

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM its process group, SIGKILL after ``timeout``; the exit status."""
        if self.running:
            self._signal_group(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self._signal_group(signal.SIGKILL)
                await self.process.wait()
        # Anything the child left behind in its group goes too.
        self._signal_group(signal.SIGKILL)
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL its process group now (a second Ctrl-C)."""
        self._signal_group(signal.SIGKILL)

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of its log."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
