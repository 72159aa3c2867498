"""Listing files, starting one and printing the last job again, against the simulators.

Every kind that declares ``print_files`` lists the simulator's stored files,
starts the chosen one (done only once the printer reports that file under
way), refuses a second start while busy, a file it does not have, an empty or
hostile path, and prints its last job again. Kinds without the capability
refuse with ``unsupported`` before anything is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    PrinterClient,
    PrinterCommandError,
    PrinterNotSupportedError,
    PrintStatus,
    Reason,
)
from custom_components.printfarm.printers.factory import create_client
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import ACTIVE, PrintJob
from simulator.prusalink.payloads import short_name
from simulator.runner import simulator_class
from tests.lines import client_options

Connect = Callable[..., Awaitable[tuple[SimulatedPrinter, PrinterClient]]]

#: Kinds whose protocol lets printfarm list and start stored files.
STARTING_KINDS = ["octoprint", "moonraker", "elegoo", "prusalink"]
#: A file every simulator of those kinds stores besides its job's.
DEMO = "phone_stand.gcode"
#: Where a kind's printer keeps it (SDCP names the storage in the path).
STORAGE = {"elegoo": "/local/", "prusalink": "/usb/"}


def stored(kind: str, name: str) -> str:
    """The path of a stored file as the printer of ``kind`` lists it (Buddy: its 8.3 name)."""
    return STORAGE.get(kind, "") + (short_name(name) if kind == "prusalink" else name)


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Start an idle simulator of a kind and connect a client built by the factory."""
    started: list[tuple[SimulatedPrinter, PrinterClient]] = []
    session = aiohttp.ClientSession()

    async def make(kind: str, **extra: Any) -> tuple[SimulatedPrinter, PrinterClient]:
        job = PrintJob(duration_s=600, heat_s=0.5, start_printing=False)
        sim = simulator_class(kind)(job, FrameSource(), SimOptions(extra=extra))
        line = await sim.start()
        client = create_client(client_options(line, model=None), session)
        client.poll_interval = 0.5
        started.append((sim, client))
        await client.connect()
        return sim, client

    yield make
    for sim, client in started:
        await client.close()
        await sim.stop()
    await session.close()


async def refused(action: Awaitable[None]) -> Reason:
    """The reason a command was refused with (fails when it was not)."""
    with pytest.raises(PrinterCommandError) as caught:
        await action
    return caught.value.reason


@pytest.mark.parametrize("kind", STARTING_KINDS)
async def test_list_start_busy_and_reprint(connect: Connect, kind: str) -> None:
    sim, client = await connect(kind)
    assert client.capabilities.print_files
    assert client.capabilities.reprint

    files = await client.list_files()
    assert stored(kind, DEMO) in [f.path for f in files]
    assert [f.name for f in files if f.path == stored(kind, DEMO)] == [DEMO]
    assert client.files == files

    await client.start_print(stored(kind, DEMO))
    # returned only once the printer itself reported the file under way
    assert client.state.status in (PrintStatus.PREPARING, PrintStatus.PRINTING)
    assert client.state.job == DEMO
    assert sim.job.tick().phase in ACTIVE
    assert sim.job.file == DEMO

    # a second start while the first runs is refused before anything is sent
    other = stored(kind, "calibration_cube.gcode")
    assert await refused(client.start_print(other)) is Reason.BUSY
    assert await refused(client.reprint()) is Reason.BUSY
    assert sim.job.file == DEMO

    await client.stop()
    await client.reprint()
    assert client.state.status in (PrintStatus.PREPARING, PrintStatus.PRINTING)
    assert sim.job.file == DEMO
    await client.stop()


@pytest.mark.parametrize("kind", STARTING_KINDS)
async def test_refusals_name_their_reason(connect: Connect, kind: str) -> None:
    sim, client = await connect(kind)

    missing = stored(kind, "not-on-the-printer.gcode")
    assert await refused(client.start_print(missing)) is Reason.FILE_NOT_FOUND
    assert await refused(client.start_print("")) is Reason.NO_FILE
    assert await refused(client.start_print("../../etc/passwd")) is Reason.INVALID_VALUE
    assert await refused(client.start_print("a\nb.gcode")) is Reason.INVALID_VALUE
    assert await refused(client.start_print("x" * 300 + ".gcode")) is Reason.INVALID_VALUE
    # an idle printer that never printed has no last job
    assert await refused(client.reprint()) is Reason.NO_FILE
    assert sim.job.tick().phase not in ACTIVE


async def test_moonraker_reprint_refuses_a_deleted_file(connect: Connect) -> None:
    sim, client = await connect("moonraker")
    await client.start_print(DEMO)
    await client.stop()
    del sim.files[DEMO]  # type: ignore[attr-defined]
    assert await refused(client.reprint()) is Reason.FILE_NOT_FOUND


async def test_octoprint_lists_sizes_and_dates(connect: Connect) -> None:
    _sim, client = await connect("octoprint")
    files = await client.list_files()
    assert all(f.size == 9330 and f.modified == 1795238616 for f in files)


async def test_elegoo_reprint_needs_the_file_still_stored(connect: Connect) -> None:
    sim, client = await connect("elegoo")
    await client.start_print(stored("elegoo", DEMO))
    await client.stop()
    sim.stored.discard(stored("elegoo", DEMO))  # type: ignore[attr-defined]
    assert await refused(client.reprint()) is Reason.FILE_NOT_FOUND


async def test_moonraker_list_includes_uploads_newest_first(connect: Connect) -> None:
    sim, client = await connect("moonraker")
    before = await client.list_files()
    from simulator.moonraker.files import scan_upload

    sim.files["sub/new part.gcode"] = scan_upload("sub/new part.gcode", b"G28\n")  # type: ignore[attr-defined]
    files = await client.list_files()
    assert files[0].path == "sub/new part.gcode"
    assert len(files) == len(before) + 1
    await client.start_print("sub/new part.gcode")
    assert client.state.job == "sub/new part.gcode"


@pytest.mark.parametrize("kind", ["bambu"])
async def test_kinds_without_the_capability_refuse(connect: Connect, kind: str) -> None:
    _sim, client = await connect(kind)
    assert not client.capabilities.print_files
    assert not client.capabilities.reprint
    with pytest.raises(PrinterNotSupportedError):
        await client.list_files()
    with pytest.raises(PrinterNotSupportedError):
        await client.start_print(DEMO)
    with pytest.raises(PrinterNotSupportedError):
        await client.reprint()


async def test_prusa_link_pi_lists_long_names_on_its_local_storage(connect: Connect) -> None:
    sim, client = await connect("prusalink", variant="pi")
    files = await client.list_files()
    assert "/local/phone_stand.gcode" in [f.path for f in files]  # the SD card is unavailable
    await client.start_print("/local/phone_stand.gcode")
    assert client.state.job == DEMO
    assert sim.job.file == DEMO
