"""Elegoo tests: SDCP simulators over loopback and clients on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import PrinterState
from custom_components.printfarm.printers.elegoo import ElegooClient
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.elegoo import ElegooSimulator
from simulator.job import Phase, PrintJob

SimFactory = Callable[..., Awaitable[tuple[ElegooSimulator, dict[str, Any]]]]
ClientFactory = Callable[..., Awaitable[ElegooClient]]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    started: list[ElegooSimulator] = []

    async def factory(
        *, printing: bool = True, duration_s: float = 3600.0, speed: float = 1.0, **extra: Any
    ) -> tuple[ElegooSimulator, dict[str, Any]]:
        job = PrintJob(
            duration_s=duration_s,
            heat_s=2.0,
            total_layers=10,
            speed=speed,
            start_printing=printing,
        )
        options = SimOptions(extra={"tick_interval": 0.05, "status_period": 0.5, **extra})
        sim = ElegooSimulator(job, FrameSource(frame_interval=0.05), options)
        line = await sim.start()
        started.append(sim)
        return sim, line

    yield factory
    for sim in started:
        await sim.stop()


@pytest.fixture
async def make_client(session: aiohttp.ClientSession) -> AsyncIterator[ClientFactory]:
    clients: list[ElegooClient] = []

    async def factory(line: dict[str, Any], *, connect: bool = True, **kwargs: Any) -> ElegooClient:
        client = ElegooClient(
            line["host"],
            port=line["port"],
            video_port=line["camera_port"],
            session=session,
            request_timeout=kwargs.pop("request_timeout", 3.0),
            confirm_timeout=kwargs.pop("confirm_timeout", 3.0),
            **kwargs,
        )
        client.backoff.initial = 0.01
        client.backoff.maximum = 0.05
        clients.append(client)
        if connect:
            await client.connect()
        return client

    yield factory
    for client in clients:
        await client.close()


def phase_of(sim: ElegooSimulator) -> Phase:
    return sim.job.phase


def statuses_of(client: ElegooClient) -> list[PrinterState]:
    seen: list[PrinterState] = []
    client.add_listener(seen.append)
    return seen
