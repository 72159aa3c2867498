"""OctoPrint tests: the simulator over loopback, clients on it, captured answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
import json
from typing import Any

import aiohttp
import pytest
import pytest_socket

from custom_components.printfarm.printers import (
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.octoprint import OctoPrintClient
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.octoprint import OctoPrintSimulator
from tests.conftest import FIXTURES

WAIT = 10.0
FIXTURE_DIR = FIXTURES / "octoprint"


def allow_loopback() -> None:
    """Fixtures run before conftest's trylast hook re-opens loopback: do it here too."""
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)


def status_of(client: OctoPrintClient) -> PrintStatus:
    """The client's status now (a call, so type checkers do not narrow it)."""
    return client.state.status


def status_is(*statuses: PrintStatus) -> Callable[[PrinterState], bool]:
    return lambda state: state.status in statuses


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def start_sim(
    *, start_printing: bool = True, duration_s: float = 600.0, **extra: Any
) -> tuple[OctoPrintSimulator, dict[str, Any]]:
    allow_loopback()
    job = PrintJob(
        file="cube.gcode", duration_s=duration_s, heat_s=0.0, start_printing=start_printing
    )
    sim = OctoPrintSimulator(job, FrameSource(), SimOptions(extra=extra))
    line = await sim.start()
    return sim, line


@pytest.fixture
async def sim() -> AsyncIterator[OctoPrintSimulator]:
    simulator, _ = await start_sim()
    yield simulator
    await simulator.stop()


def make_client(
    sim: OctoPrintSimulator, session: aiohttp.ClientSession, **kwargs: Any
) -> OctoPrintClient:
    kwargs.setdefault("poll_interval", 0.2)
    kwargs.setdefault("fast_poll_interval", 0.05)
    kwargs.setdefault("use_push", False)
    return OctoPrintClient(
        "127.0.0.1", api_key=sim.api_key, port=sim.port, session=session, **kwargs
    )


def load(name: str) -> dict[str, Any]:
    """A captured answer from tests/fixtures/octoprint."""
    data: dict[str, Any] = json.loads((FIXTURE_DIR / name).read_text())
    return data
