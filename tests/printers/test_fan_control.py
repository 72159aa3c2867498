"""Fan control on every kind, against the simulators over loopback.

A fan speed is set only for the fans a printer's capabilities list, checked
before anything is sent, and confirmed by the speed the printer reports back
(OctoPrint reports none, so there the printer's own G-code handling is checked).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    FanKind,
    PrinterClient,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterNotSupportedError,
)
from custom_components.printfarm.printers.factory import create_client
from custom_components.printfarm.printers.moonraker.parse import parse_object_list
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.job import PrintJob, Snapshot
from simulator.runner import simulator_class
from tests.lines import client_options

Connect = Callable[..., Awaitable[tuple[SimulatedPrinter, PrinterClient]]]

ALL_FANS = (FanKind.PART_COOLING, FanKind.AUXILIARY, FanKind.CHAMBER)


def sim_fan(snap: Snapshot, fan: FanKind) -> int:
    """The speed the simulated machine runs a fan at."""
    return {
        FanKind.PART_COOLING: snap.fan,
        FanKind.AUXILIARY: snap.aux_fan,
        FanKind.CHAMBER: snap.chamber_fan,
    }[fan]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Start a simulator of a kind and connect a client built by the factory."""
    started: list[tuple[SimulatedPrinter, PrinterClient]] = []
    session = aiohttp.ClientSession()

    async def make(
        kind: str, model: str | None = None, **extra: Any
    ) -> tuple[SimulatedPrinter, PrinterClient]:
        job = PrintJob(duration_s=600, heat_s=0.5, start_printing=False)
        sim = simulator_class(kind)(job, FrameSource(), SimOptions(model=model, extra=extra))
        line = await sim.start()
        options = client_options(line, model=None)
        client = create_client(options, session)
        started.append((sim, client))
        await client.connect()
        return sim, client

    yield make
    for sim, client in started:
        await client.close()
        await sim.stop()
    await session.close()


@pytest.mark.parametrize(
    ("kind", "extra", "fans"),
    [
        ("bambu", {"model": "P1S"}, ALL_FANS),
        ("bambu", {"model": "X1C"}, ALL_FANS),
        ("elegoo", {}, ALL_FANS),
        ("moonraker", {}, (FanKind.PART_COOLING,)),
        ("moonraker", {"generic_fans": True}, ALL_FANS),
    ],
    ids=["bambu-P1S", "bambu-X1C", "elegoo", "moonraker", "moonraker-fan_generic"],
)
async def test_set_every_controllable_fan_confirmed_by_state(
    connect: Connect, kind: str, extra: dict[str, Any], fans: tuple[FanKind, ...]
) -> None:
    sim, client = await connect(kind, **extra)
    assert client.capabilities.controllable_fans == fans
    tolerance = 4 if kind == "bambu" else 1  # Bambu reports 16 levels
    for fan in fans:
        await client.set_fan_speed(fan, 40)
        speed = client.state.fan_speed(fan)
        assert speed is not None
        assert abs(speed - 40) <= tolerance
        assert sim_fan(sim.job.tick(), fan) == 40
    for fan in fans:
        await client.set_fan_speed(fan, 100)
        assert client.state.fan_speed(fan) == 100
        await client.set_fan_speed(fan, 0)
        assert client.state.fan_speed(fan) == 0
        assert sim_fan(sim.job.tick(), fan) == 0


async def test_bambu_a1_has_only_the_part_fan(connect: Connect) -> None:
    sim, client = await connect("bambu", model="A1")
    assert client.capabilities.controllable_fans == (FanKind.PART_COOLING,)
    with pytest.raises(PrinterNotSupportedError):
        await client.set_fan_speed(FanKind.AUXILIARY, 50)
    await client.set_fan_speed(FanKind.PART_COOLING, 60)
    assert sim.job.tick().fan == 60


async def test_bambu_authorization_control_refuses_fans(connect: Connect) -> None:
    sim, client = await connect("bambu", authorization_control=True)
    with pytest.raises(PrinterCommandError) as err:
        await client.set_fan_speed(FanKind.CHAMBER, 50)
    assert err.value.reason == "control_unavailable"
    assert sim.job.tick().chamber_fan == 0


async def test_octoprint_sends_m106_without_a_reported_speed(connect: Connect) -> None:
    sim, client = await connect("octoprint")
    assert client.capabilities.controllable_fans == (FanKind.PART_COOLING,)
    await client.set_fan_speed(FanKind.PART_COOLING, 50)
    assert sim.job.tick().fan == 50  # the printer got M106 S128
    assert client.state.fan_part_cooling is None  # OctoPrint never reports fans
    await client.set_fan_speed(FanKind.PART_COOLING, 0)
    assert sim.job.tick().fan == 0  # M107
    with pytest.raises(PrinterNotSupportedError):
        await client.set_fan_speed(FanKind.CHAMBER, 50)


@pytest.mark.parametrize("variant", ["buddy", "pi"])
async def test_prusalink_has_no_fan_control(connect: Connect, variant: str) -> None:
    _sim, client = await connect("prusalink", variant=variant)
    assert client.capabilities.controllable_fans == ()
    with pytest.raises(PrinterNotSupportedError):
        await client.set_fan_speed(FanKind.PART_COOLING, 50)


@pytest.mark.parametrize("kind", ["bambu", "elegoo", "moonraker", "octoprint"])
@pytest.mark.parametrize("percent", [-1, 101, 50.5, True, "50", None])
async def test_bad_percentages_are_refused_before_sending(
    connect: Connect, kind: str, percent: Any
) -> None:
    sim, client = await connect(kind)
    before = sim.job.tick().fan
    with pytest.raises(PrinterCommandError) as err:
        await client.set_fan_speed(FanKind.PART_COOLING, percent)
    assert err.value.reason == "invalid_value"
    assert "0-100" in str(err.value)
    assert sim.job.tick().fan == before


@pytest.mark.parametrize("kind", ["bambu", "elegoo", "moonraker", "octoprint"])
async def test_unknown_or_missing_fans_are_not_supported(connect: Connect, kind: str) -> None:
    _sim, client = await connect(kind)
    with pytest.raises(PrinterNotSupportedError):
        await client.set_fan_speed("turbo", 50)  # type: ignore[arg-type]
    await client.set_fan_speed("part_cooling", 30)  # type: ignore[arg-type]  # the plain value works
    missing = [fan for fan in ALL_FANS if fan not in client.capabilities.controllable_fans]
    for fan in missing:
        with pytest.raises(PrinterNotSupportedError):
            await client.set_fan_speed(fan, 50)


@pytest.mark.parametrize("kind", ["bambu", "elegoo", "moonraker", "octoprint"])
async def test_offline_printer_refuses(connect: Connect, kind: str) -> None:
    sim, client = await connect(kind)
    await sim.stop()
    await client.wait_for_state(lambda s: not s.connected, 10)
    with pytest.raises(PrinterConnectionError):
        await client.set_fan_speed(FanKind.PART_COOLING, 50)


async def test_elegoo_firmware_that_ignores_changes_while_printing(connect: Connect) -> None:
    sim, client = await connect("elegoo", ignore_changes_while_printing=True)
    client.confirm_timeout = 0.5
    sim.job.start("cube.gcode")
    await client.wait_for_state(lambda s: s.job == "cube.gcode", 5)
    with pytest.raises(PrinterCommandError) as err:
        await client.set_fan_speed(FanKind.CHAMBER, 70)
    assert err.value.reason == "not_confirmed"
    assert sim.job.tick().chamber_fan == 0


async def test_klipper_generic_fans_take_set_fan_speed(connect: Connect) -> None:
    sim, client = await connect("moonraker", generic_fans=True)
    await client.set_fan_speed(FanKind.CHAMBER, 35)
    await client.set_fan_speed(FanKind.AUXILIARY, 0)
    log = sim.gcode_log  # type: ignore[attr-defined]
    assert "SET_FAN_SPEED FAN=chamber_fan SPEED=0.35" in log
    assert "SET_FAN_SPEED FAN=aux_fan SPEED=0" in log
    assert client.state.fan_chamber == 35


def test_klipper_generic_fans_are_known_by_their_names() -> None:
    layout = parse_object_list(
        {
            "objects": [
                "fan",
                "fan_generic nevermore",
                "fan_generic Exhaust_Fan",
                "fan_generic side_fan",
                "fan_generic chamber_circulation",
            ]
        }
    )
    assert layout.chamber_fan == "fan_generic Exhaust_Fan"  # the first chamber-like name
    assert layout.aux_fan == "fan_generic side_fan"
    assert layout.subscription()["fan_generic side_fan"] == ["speed"]
    assert "fan_generic nevermore" not in layout.subscription()
    bare = parse_object_list({"objects": ["fan"]})
    assert (bare.aux_fan, bare.chamber_fan) == (None, None)
