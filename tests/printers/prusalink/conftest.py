"""PrusaLink client tests: simulators of either flavour over loopback, fast clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from custom_components.printfarm.printers.prusalink import PrusaLinkClient
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.prusalink import PrusaLinkSimulator

WAIT = 5.0

MakeSim = Callable[..., Awaitable[tuple[PrusaLinkSimulator, dict[str, Any]]]]
MakeClient = Callable[..., PrusaLinkClient]
Sims = Callable[..., Awaitable[tuple[PrusaLinkSimulator, dict[str, Any]]]]


@pytest.fixture(params=["buddy", "pi"])
def variant(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def sims() -> AsyncIterator[Sims]:
    """Start simulators of a named flavour; all are stopped at the end."""
    started: list[PrusaLinkSimulator] = []

    async def make(
        variant: str, *, printing: bool = True, **extra: Any
    ) -> tuple[PrusaLinkSimulator, dict[str, Any]]:
        job = PrintJob(start_printing=printing, file="3DBenchy.gcode")
        sim = PrusaLinkSimulator(
            job, FrameSource(), SimOptions(extra={"variant": variant, **extra})
        )
        line = await sim.start()
        started.append(sim)
        return sim, line

    yield make
    for sim in started:
        await sim.stop()


@pytest.fixture
def make_sim(variant: str, sims: Sims) -> MakeSim:
    """Start simulators of the flavour this test run is parametrized with."""

    async def make(**kwargs: Any) -> tuple[PrusaLinkSimulator, dict[str, Any]]:
        return await sims(variant, **kwargs)

    return make


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    clients: list[PrusaLinkClient] = []

    def make(line: dict[str, Any], **kwargs: Any) -> PrusaLinkClient:
        options: dict[str, Any] = {
            "port": line["port"],
            "username": line["username"],
            "password": line["password"],
            "poll_interval": 0.05,
            "fast_poll_interval": 0.05,
            "request_timeout": 2.0,
        }
        options.update(kwargs)
        client = PrusaLinkClient(line["host"], **options)
        client.backoff.initial = 0.01
        client.backoff.maximum = 0.02
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
