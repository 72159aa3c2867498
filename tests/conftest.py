"""Shared test setup.

pytest-homeassistant-custom-component blocks every socket except unix ones.
printfarm's tests talk to simulators and real peers over loopback, so inet
sockets are allowed again, but only towards 127.0.0.1: nothing leaves the
machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import os
from pathlib import Path
from typing import Any

import pytest
import pytest_socket

from simulator.bambu import MosquittoMissingError
from simulator.base import SimulatedPrinter

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _loopback_sockets() -> None:
    """Re-open loopback sockets after the HA plugin closed them all.

    An autouse fixture runs before the fixtures a test asks for, so
    simulators started by fixtures can open their sockets too.
    """
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)


@pytest.fixture(autouse=True)
def _printfarm_discovery_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """printfarm's own scanner stays off wherever a test sets the integration up.

    On, it would listen on UDP 2021 and broadcast the Elegoo probe to the LAN.
    Tests that want it turn it on, pointed at loopback (tests/integration/test_scanner.py).
    """
    monkeypatch.setenv("PRINTFARM_DISCOVERY", "off")


class RunningSims:
    """The simulators a test started; the ``running_sims`` fixture stops them all."""

    def __init__(self) -> None:
        self.started: list[SimulatedPrinter] = []

    async def start(self, sim: SimulatedPrinter) -> dict[str, Any]:
        """Start ``sim`` and return its connection line; a simulator that cannot start fails."""
        try:
            line = await sim.start()
        except MosquittoMissingError as err:
            pytest.fail(f"{err}; scripts/setup installs it")
        self.started.append(sim)
        return line


@pytest.fixture
async def running_sims() -> AsyncIterator[RunningSims]:
    sims = RunningSims()
    yield sims
    for sim in sims.started:
        await sim.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the real-peer tier unless scripts/test --interop asked for it."""
    if os.environ.get("PRINTFARM_INTEROP") == "1":
        return
    skip = pytest.mark.skip(reason="real-peer tier: run scripts/test --interop")
    for item in items:
        if "interop" in item.keywords:
            item.add_marker(skip)
