"""Bambu tests: simulated printers (real mosquitto, real TLS, loopback), clients, captures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from typing import Any

import pytest

from custom_components.printfarm.printers import (
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.bambu import BambuClient, create
from simulator.bambu import BambuSimulator
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from tests.conftest import FIXTURES, RunningSims
from tests.lines import client_options

SimFactory = Callable[..., Awaitable[tuple[BambuSimulator, dict[str, Any]]]]
ClientFactory = Callable[..., Awaitable[BambuClient]]


def now(client: BambuClient) -> PrinterState:
    """The client's current state (a call, so mypy does not narrow it across commands)."""
    return client.state


def printing(state: PrinterState) -> bool:
    return state.connected and state.status is PrintStatus.PRINTING


@pytest.fixture
def make_sim(running_sims: RunningSims) -> SimFactory:
    async def make(
        model: str = "P1S",
        *,
        job: PrintJob | None = None,
        state_file: str | None = None,
        **extra: Any,
    ) -> tuple[BambuSimulator, dict[str, Any]]:
        job = job or PrintJob(heat_s=0.3, duration_s=3600)
        options = SimOptions(
            model=model,
            state_file=state_file,
            extra={"report_interval": 0.2, "frame_interval": 0.05, **extra},
        )
        sim = BambuSimulator(job, FrameSource(), options)
        return sim, await running_sims.start(sim)

    return make


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    clients: list[BambuClient] = []

    async def make(line: dict[str, Any], *, connect: bool = True, **overrides: Any) -> BambuClient:
        client = create(client_options(line, **overrides))
        client.request_timeout = 5
        client.confirm_timeout = 10
        clients.append(client)
        if connect:
            await client.connect()
        return client

    yield make
    for client in clients:
        await client.close()


def load(name: str) -> Any:
    """A captured message from tests/fixtures/bambu."""
    return json.loads((FIXTURES / "bambu" / name).read_text())
