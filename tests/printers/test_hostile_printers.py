"""Hostile printers, one of each kind: garbage, oversized, deep and overflowing messages,
then good ones; and a link that delivers late. The client must come back by itself.

Each case prints how long the client took to show the printer's next good state
(``pytest -s``); those times fill README's fault table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import time
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import PrinterClient, PrinterState, Reason
from custom_components.printfarm.printers.factory import create_client
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.faults import Fault
from simulator.job import PrintJob
from simulator.runner import simulator_class
from simulator.slowlink import SlowLink
from tests.conftest import RunningSims
from tests.lines import client_options

KINDS = ("moonraker", "octoprint", "prusalink", "elegoo", "bambu")
#: Generous: a fault that cuts the connection waits for one reconnect (backoff starts at 1 s).
WAIT = 30.0
#: Fast cadences for the simulators (every kind pushes or answers within a second).
FAST: dict[str, dict[str, Any]] = {
    "bambu": {"report_interval": 0.2},
    "elegoo": {"tick_interval": 0.05, "status_period": 0.5},
}

Connect = Callable[..., Awaitable[tuple[SimulatedPrinter, PrinterClient, SlowLink]]]


@pytest.fixture
async def connect(running_sims: RunningSims) -> AsyncIterator[Connect]:
    """A simulator of ``kind``, a slow link in front of it (no delay yet), a connected client."""
    session = aiohttp.ClientSession()
    clients: list[PrinterClient] = []
    links: list[SlowLink] = []

    async def make(
        kind: str, *, request_timeout: float = 5.0, **options: Any
    ) -> tuple[SimulatedPrinter, PrinterClient, SlowLink]:
        job = PrintJob(duration_s=3600, heat_s=0.5)
        sim = simulator_class(kind)(job, FrameSource(), SimOptions(extra=dict(FAST.get(kind, {}))))
        line = await running_sims.start(sim)
        link = SlowLink(line["host"], line["port"])
        links.append(link)
        port = await link.start()
        client = create_client(client_options(line, port=port, **options), session)
        client.request_timeout = request_timeout
        client.backoff.initial = 0.2
        client.backoff.maximum = 0.5
        clients.append(client)
        await client.connect()
        return sim, client, link

    yield make
    for client in clients:
        await client.close()
    for link in links:
        await link.stop()
    await session.close()


def bed_is(target: float) -> Callable[[PrinterState], bool]:
    return lambda s: s.connected and s.bed_target is not None and abs(s.bed_target - target) < 0.5


@pytest.mark.parametrize("kind", KINDS)
async def test_bad_messages_then_good_ones(connect: Connect, kind: str) -> None:
    """After each bad message the next good state reaches the client, with no help."""
    sim, client, _link = await connect(kind, poll_interval=0.3)
    offline: list[Fault] = []
    faults: list[Fault] = [Fault(value) for value in Fault]
    for number, fault in enumerate(faults):
        seen: list[bool] = []

        def note(state: PrinterState, seen: list[bool] = seen) -> None:
            seen.append(state.connected)

        remove = client.add_listener(note)
        started = time.monotonic()
        await sim.inject(fault)
        target = 40.0 + number
        sim.job.set_bed_target(target)
        await client.wait_for_state(bed_is(target), WAIT)
        remove()
        if False in seen:
            offline.append(fault)
        print(
            f"{kind} {fault}: good state after {time.monotonic() - started:.2f} s"
            f"{' (reconnected)' if False in seen else ''}"
        )
    assert client.state.connected
    # Only an MQTT packet over the limit cuts the connection (paho cannot skip one unread);
    # every other kind drops an oversized message and keeps its connection.
    assert offline == ([Fault.OVERSIZED] if kind == "bambu" else [])


@pytest.mark.parametrize("kind", KINDS)
async def test_a_link_that_delivers_late_is_stale_then_recovers(
    connect: Connect, kind: str
) -> None:
    """Answers that arrive late are not a live printer: offline (stale), then back."""
    sim, client, link = await connect(kind, poll_interval=0.3, stale_after=1.5, request_timeout=1.0)
    started = time.monotonic()
    link.delay = 3.0
    state = await client.wait_for_state(lambda s: not s.connected, WAIT)
    went_stale = time.monotonic() - started
    assert client.last_error is not None
    assert client.last_error.reason in (Reason.STALE, Reason.TIMEOUT, Reason.OFFLINE)
    assert state.status == "offline"
    link.delay = 0.0
    healed = time.monotonic()
    sim.job.set_bed_target(55.0)
    await client.wait_for_state(bed_is(55.0), WAIT)
    back = time.monotonic() - healed
    print(
        f"{kind} slow link: offline after {went_stale:.2f} s, back {back:.2f} s"
        f" after the link recovered ({client.last_error.reason})"
    )
