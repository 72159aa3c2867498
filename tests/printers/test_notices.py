"""PrinterNotice: what each client tells the user to fix, driven by the real simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    PrinterCommandError,
    PrinterConnectionError,
    PrinterNotice,
    PrinterProtocolError,
    PrinterState,
)
from custom_components.printfarm.printers.base import PrinterClient
from custom_components.printfarm.printers.factory import create_client
from simulator.bambu import BambuSimulator
from simulator.base import SimOptions, SimulatedPrinter
from simulator.camera import FrameSource
from simulator.elegoo import ElegooSimulator
from simulator.job import PrintJob
from simulator.prusalink import PrusaLinkSimulator
from tests.conftest import RunningSims
from tests.lines import client_options

WAIT = 10.0

StartSim = Callable[..., Awaitable[tuple[Any, dict[str, Any]]]]
MakeClient = Callable[[dict[str, Any]], PrinterClient]


_SIMULATORS: dict[str, type[SimulatedPrinter]] = {
    "bambu": BambuSimulator,
    "elegoo": ElegooSimulator,
    "prusalink": PrusaLinkSimulator,
}
_FAST: dict[str, dict[str, Any]] = {
    "bambu": {"report_interval": 0.2},
    "elegoo": {"tick_interval": 0.05, "status_period": 0.5},
    "prusalink": {},
}


@pytest.fixture
def start_sim(running_sims: RunningSims) -> StartSim:
    async def start(
        kind: str, model: str | None = None, **extra: Any
    ) -> tuple[Any, dict[str, Any]]:
        options = SimOptions(model=model, extra={**_FAST[kind], **extra})
        sim = _SIMULATORS[kind](PrintJob(heat_s=0.3, duration_s=3600), FrameSource(), options)
        return sim, await running_sims.start(sim)

    return start


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    clients: list[PrinterClient] = []
    session = aiohttp.ClientSession()

    def make(line: dict[str, Any]) -> PrinterClient:
        options = client_options(line)
        client = create_client(options, session)
        client.request_timeout = 3.0
        client.backoff.initial = 0.01
        client.backoff.maximum = 0.05
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
    await session.close()


def now(client: PrinterClient) -> PrinterState:
    """The client's current state (a call, so mypy does not narrow it across awaits)."""
    return client.state


def has(notice: PrinterNotice) -> Callable[[PrinterState], bool]:
    return lambda state: notice in state.notices


def lacks(notice: PrinterNotice) -> Callable[[PrinterState], bool]:
    return lambda state: state.connected and notice not in state.notices


def test_notices_are_json_friendly_in_as_dict() -> None:
    state = PrinterState(
        notices=frozenset({PrinterNotice.LIVEVIEW_DISABLED, PrinterNotice.FIRMWARE_TOO_OLD})
    )
    data = state.as_dict()
    assert data["notices"] == ["firmware_too_old", "liveview_disabled"]
    json.dumps(data)
    assert PrinterState().notices == frozenset()


# ------------------------------------------------------------------- Bambu


async def test_bambu_developer_mode_notice_follows_the_fun_bit(
    start_sim: StartSim, make_client: MakeClient
) -> None:
    sim, line = await start_sim("bambu", "X1C", authorization_control=True)
    client = make_client(line)
    await client.connect()
    assert PrinterNotice.DEVELOPER_MODE_REQUIRED in client.state.notices
    assert not client.state.control_available
    sim.set_developer_mode(True)
    state = await client.wait_for_state(lacks(PrinterNotice.DEVELOPER_MODE_REQUIRED), WAIT)
    assert state.control_available
    await client.pause()  # accepted now


async def test_bambu_developer_mode_notice_from_a_refused_command(
    start_sim: StartSim, make_client: MakeClient
) -> None:
    _sim, line = await start_sim("bambu", "P1S", authorization_control="reply_only")
    client = make_client(line)
    await client.connect()
    await client.wait_for_state(lambda s: s.status.value in ("preparing", "printing"), WAIT)
    assert client.state.notices == frozenset()
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "control_unavailable"
    assert PrinterNotice.DEVELOPER_MODE_REQUIRED in client.state.notices


async def test_bambu_liveview_notice_follows_rtsp_url(
    start_sim: StartSim, make_client: MakeClient
) -> None:
    sim, line = await start_sim("bambu", "X1C", liveview=False)
    client = make_client(line)
    await client.connect()
    assert client.state.notices == frozenset({PrinterNotice.LIVEVIEW_DISABLED})
    assert client.details["liveview"] is False
    sim.set_liveview(True)
    await client.wait_for_state(lacks(PrinterNotice.LIVEVIEW_DISABLED), WAIT)
    sim.set_liveview(False)
    await client.wait_for_state(has(PrinterNotice.LIVEVIEW_DISABLED), WAIT)


async def test_bambu_socket_camera_models_never_get_the_liveview_notice(
    start_sim: StartSim, make_client: MakeClient
) -> None:
    """P1/A1 stream over port 6000; a stray "disable" there is not a switch to turn on."""
    sim, line = await start_sim("bambu", "P1S")
    client = make_client(line)
    await client.connect()
    report = {
        "print": {"command": "push_status", "mc_percent": 42, "ipcam": {"rtsp_url": "disable"}}
    }
    sim.publish_raw(json.dumps(report).encode())
    state = await client.wait_for_state(lambda s: s.progress == 42, WAIT)
    assert client.details["liveview"] is False
    assert state.notices == frozenset()


# ------------------------------------------------------------------ Elegoo


async def test_elegoo_full_printer_raises_the_slots_notice_until_connected(
    start_sim: StartSim, make_client: MakeClient
) -> None:
    sim, line = await start_sim("elegoo", max_clients=0)
    client = make_client(line)
    with pytest.raises(PrinterConnectionError, match="maximum of clients"):
        await client.connect()
    assert client.state.notices == frozenset({PrinterNotice.CONNECTION_SLOTS_EXHAUSTED})
    assert not client.state.connected
    sim.max_clients = 4
    await client.connect()
    assert now(client).connected
    assert now(client).notices == frozenset()


async def test_elegoo_keeps_retrying_a_full_printer_and_clears_the_notice(
    start_sim: StartSim, make_client: MakeClient
) -> None:
    """Connected, dropped, turned away while others hold the slots, then back in."""
    sim, line = await start_sim("elegoo")
    client = make_client(line)
    client.poll_interval = 0.1
    client.stale_after = 0.4
    await client.connect()
    refused_before = sim.refused
    sim.max_clients = 0
    sim.freeze()  # our socket goes silent: the client drops it and reconnects
    await client.wait_for_state(has(PrinterNotice.CONNECTION_SLOTS_EXHAUSTED), WAIT)
    assert not client.state.connected
    await sim.wait_until(lambda: sim.refused >= refused_before + 2, WAIT)  # retrying
    sim.max_clients = 4
    await client.wait_for_state(lacks(PrinterNotice.CONNECTION_SLOTS_EXHAUSTED), WAIT)


async def test_elegoo_unreachable_printer_is_not_a_slot_problem(
    make_client: MakeClient,
) -> None:
    line = {"kind": "elegoo", "host": "127.0.0.1", "port": 9, "camera_port": 9}
    client = make_client(line)
    with pytest.raises(PrinterConnectionError):
        await client.connect()
    assert client.state.notices == frozenset()


# --------------------------------------------------------------- PrusaLink


@pytest.mark.parametrize("variant", ["buddy", "pi"])
async def test_prusalink_without_api_v1_raises_firmware_too_old(
    variant: str, start_sim: StartSim, make_client: MakeClient
) -> None:
    sim, line = await start_sim("prusalink", variant=variant, no_v1=True)
    client = make_client(line)
    with pytest.raises(PrinterProtocolError) as err:
        await client.connect()
    assert err.value.reason == PrinterNotice.FIRMWARE_TOO_OLD.value
    assert client.state.notices == frozenset({PrinterNotice.FIRMWARE_TOO_OLD})
    sim.no_v1 = False  # the user updated the firmware
    await client.connect()
    assert client.state.connected
    assert client.state.notices == frozenset()
