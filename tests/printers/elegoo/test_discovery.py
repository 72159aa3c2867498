"""UDP discovery (M99999) against the simulator's responder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import socket

import pytest

from custom_components.printfarm.printers.elegoo import DiscoveredPrinter, discover
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.elegoo import ElegooSimulator
from simulator.job import PrintJob

SimsFactory = Callable[[int], Awaitable[list[ElegooSimulator]]]


@pytest.fixture
async def make_sims() -> AsyncIterator[SimsFactory]:
    started: list[ElegooSimulator] = []

    async def factory(count: int) -> list[ElegooSimulator]:
        for index in range(count):
            sim = ElegooSimulator(
                PrintJob(start_printing=False), FrameSource(), SimOptions(index=index)
            )
            await sim.start()
            started.append(sim)
        return started

    yield factory
    for sim in started:
        await sim.stop()


async def test_discovers_the_simulator(make_sims: SimsFactory) -> None:
    sim = (await make_sims(1))[0]
    found = await discover(5.0, target="127.0.0.1", port=sim.discovery_port, limit=1)
    assert len(found) == 1
    printer = found[0]
    assert printer.unique_id == sim.mainboard_id
    assert printer.host == "127.0.0.1"
    assert (printer.name, printer.model) == (sim.name, "Centauri Carbon")
    assert (printer.kind, printer.serial, printer.port) == ("elegoo", sim.mainboard_id, 3030)
    assert printer.firmware == "V1.1.29"
    assert printer.supported


async def test_each_printer_answers_for_itself(make_sims: SimsFactory) -> None:
    sims = await make_sims(2)
    ids: set[str] = set()
    for sim in sims:
        found = await discover(5.0, target="127.0.0.1", port=sim.discovery_port, limit=1)
        ids.update(p.unique_id for p in found)
    assert ids == {sim.mainboard_id for sim in sims}


async def test_silence_and_garbage_give_no_printers() -> None:
    # a UDP socket that answers every probe with garbage
    loop = asyncio.get_running_loop()

    class Garbage(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.DatagramTransport)
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            for reply in (b"not json", b"[]", b'{"Id": 1, "Data": "x"}', b'{"Data": {}}'):
                self.transport.sendto(reply, addr)

    transport, _ = await loop.create_datagram_endpoint(
        Garbage, local_addr=("127.0.0.1", 0), family=socket.AF_INET
    )
    try:
        port = transport.get_extra_info("sockname")[1]
        assert await discover(0.3, target="127.0.0.1", port=port) == []
    finally:
        transport.close()


async def test_on_found_reports_each_printer_as_it_answers(make_sims: SimsFactory) -> None:
    sim = (await make_sims(1))[0]
    arrived: asyncio.Queue[str] = asyncio.Queue()
    probe = asyncio.create_task(
        discover(
            30.0,
            target="127.0.0.1",
            port=sim.discovery_port,
            on_found=lambda printer: arrived.put_nowait(printer.unique_id),
        )
    )
    try:
        # Reported long before the 30 s wait is over.
        assert await asyncio.wait_for(arrived.get(), 5) == sim.mainboard_id
        assert not probe.done()
    finally:
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe


async def test_a_failing_on_found_does_not_stop_the_probe(make_sims: SimsFactory) -> None:
    sims = await make_sims(2)
    calls: list[str] = []

    def on_found(printer: DiscoveredPrinter) -> None:
        calls.append(printer.unique_id)
        raise RuntimeError("bug in the consumer")

    found: list[DiscoveredPrinter] = []
    for sim in sims:
        found += await discover(
            5.0, target="127.0.0.1", port=sim.discovery_port, limit=1, on_found=on_found
        )
    assert [p.unique_id for p in found] == calls == [s.mainboard_id for s in sims]
