"""Moonraker tests: the simulator over loopback and a connected client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.moonraker import MoonrakerSimulator

TIMEOUT = 10.0
KEY = "0123456789abcdef0123456789abcdef"


def make_sim(**extra: Any) -> MoonrakerSimulator:
    job = PrintJob(duration_s=600.0, heat_s=0.0, total_layers=50)
    return MoonrakerSimulator(job, FrameSource(), SimOptions(extra={"api_key": KEY, **extra}))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def sim() -> AsyncIterator[MoonrakerSimulator]:
    simulator = make_sim()
    await simulator.start()
    yield simulator
    await simulator.stop()


def fast(client: MoonrakerClient) -> MoonrakerClient:
    client.backoff.initial = 0.01
    client.backoff.maximum = 0.05
    client.backoff.jitter = 0
    return client


@pytest.fixture
async def client(
    sim: MoonrakerSimulator, session: aiohttp.ClientSession
) -> AsyncIterator[MoonrakerClient]:
    mc = fast(MoonrakerClient("127.0.0.1", sim.port, api_key=KEY, session=session))
    await mc.connect()
    yield mc
    await mc.close()


def status_is(status: PrintStatus) -> Callable[[PrinterState], bool]:
    return lambda s: s.status is status
