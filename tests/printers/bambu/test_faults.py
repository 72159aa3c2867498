"""BambuClient against the simulated printer: authorization control, bad input, restarts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.printfarm.printers import (
    PrinterCommandError,
    PrinterConnectionError,
    PrinterNotice,
    PrintStatus,
    Reason,
)
from custom_components.printfarm.printers.bambu.mqtt import AsyncMqtt
from custom_components.printfarm.printers.bambu.tls import client_context
from custom_components.printfarm.printers.limits import MAX_MESSAGE_BYTES
from simulator.job import PrintJob
from tests.conftest import FIXTURES

from .conftest import ClientFactory, SimFactory, now, printing

# ---------------------------------------------------- authorization control


async def test_authorization_control_from_fun_blocks_control_but_not_light(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("X1C", authorization_control=True)
    client = await make_client(line)
    await client.wait_for_state(printing, 10)
    assert now(client).control_available is False
    assert client.state.control_unavailable_reason is Reason.CONTROL_UNAVAILABLE
    assert PrinterNotice.DEVELOPER_MODE_REQUIRED in client.state.notices
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "control_unavailable"
    assert not [m for m in sim.requests if "print" in m]  # refused before sending
    await client.set_light(False)
    assert now(client).light_on is False


async def test_authorization_control_reply_is_detected(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("P1S", authorization_control="reply_only")
    client = await make_client(line)
    await client.wait_for_state(printing, 10)
    assert now(client).control_available is True
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "control_unavailable"
    assert now(client).control_available is False
    assert now(client).control_unavailable_reason
    assert now(client).status is PrintStatus.PRINTING
    with pytest.raises(PrinterCommandError) as err:
        await client.set_bed_target(50)
    assert err.value.reason == "control_unavailable"


# ---------------------------------------------------------------- bad input


async def test_malformed_and_oversized_messages_are_ignored(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("P1S")
    client = await make_client(line)
    await client.wait_for_state(printing, 10)
    nozzle = client.state.nozzle_temp
    sim.publish_raw(b"{not json")
    sim.publish_raw(b"\xff\xfe")
    sim.publish_raw(b"[1, 2, 3]")
    sim.publish_raw(json.dumps({"print": "push_status"}).encode())
    sim.publish_raw(b'{"print": {"command": "push_status", "nozzle_temper": "hot"}}')
    sim.publish_raw(b'{"print": {"command": "push_status", "gcode_state": "WARMING_UP"}}')
    huge = {"print": {"command": "push_status", "subtask_name": "x" * MAX_MESSAGE_BYTES}}
    sim.publish_raw(json.dumps(huge).encode())
    sim.job.set_bed_target(77)  # a good report after the bad ones
    await client.wait_for_state(lambda s: s.bed_target == 77, 10)
    state = now(client)
    assert state.connected
    assert state.status is PrintStatus.PRINTING  # unknown gcode_state kept the last status
    assert nozzle is not None
    assert state.nozzle_temp is not None
    assert state.job == "benchy"
    assert client.last_error is None


# ------------------------------------------------------- watchdog, reconnect


async def test_silent_printer_trips_the_watchdog_and_reconnects(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("P1S")
    client = await make_client(line, connect=False, stale_after=1.0)
    client.request_timeout = 1.0
    client.backoff.initial = 0.05
    client.backoff.maximum = 0.2
    await client.connect()
    statuses: list[bool] = []
    client.add_listener(lambda s: statuses.append(s.connected))
    sim.muted = True
    await client.wait_for_state(lambda s: not s.connected, 10)
    pushalls = sum(1 for m in sim.requests if "pushing" in m)
    sim.muted = False
    await client.wait_for_state(lambda s: s.connected, 10)
    assert isinstance(client.last_error, PrinterConnectionError)
    # Reports already on their way when the printer fell silent may come first.
    assert False in statuses
    assert statuses[-1] is True
    assert sum(1 for m in sim.requests if "pushing" in m) > pushalls  # pushall on reconnect


async def test_broker_restart_reconnects(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim, line = await make_sim("X1C")
    client = await make_client(line)
    client.backoff.initial = 0.05
    client.backoff.maximum = 0.2
    await client.wait_for_state(printing, 10)
    await sim.restart_broker()
    await client.wait_for_state(lambda s: s.status is PrintStatus.OFFLINE, 10)
    await client.wait_for_state(printing, 15)
    await client.pause()
    assert now(client).status is PrintStatus.PAUSED


async def test_command_in_flight_fails_fast_when_the_connection_drops(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("P1S")
    client = await make_client(line)
    await client.wait_for_state(printing, 10)
    sim.muted = True  # the printer will neither act nor answer
    sim.request_arrived.clear()
    pause = asyncio.create_task(client.pause())
    await asyncio.wait_for(sim.request_arrived.wait(), 5)
    await sim.restart_broker()
    with pytest.raises(PrinterConnectionError, match="connection lost"):
        await asyncio.wait_for(pause, 5)  # well before the 10 s confirm timeout


@pytest.mark.parametrize(("model", "full"), [("X1C", True), ("P1S", False), ("H2D", False)])
async def test_simulator_sends_full_or_delta_reports_like_the_model(
    model: str, full: bool, make_sim: SimFactory
) -> None:
    sim, line = await make_sim(model)
    reports: list[dict[str, Any]] = []
    enough = asyncio.Event()

    def collect(topic: str, payload: bytes) -> None:
        body = json.loads(payload).get("print", {})
        if body.get("command") == "push_status":
            reports.append(body)
            if len(reports) >= 6:
                enough.set()

    context = client_context(Path(line["extra"]["ca_file"]).read_text())
    observer = AsyncMqtt(
        line["host"],
        line["port"],
        username="bblp",
        password=line["access_code"],
        ssl_context=context,
        server_hostname=sim.serial,
        on_message=collect,
    )
    await observer.connect(5)
    try:
        observer.subscribe(f"device/{sim.serial}/report")
        observer.publish(
            f"device/{sim.serial}/request",
            json.dumps({"pushing": {"sequence_id": "0", "command": "pushall"}}),
        )
        await asyncio.wait_for(enough.wait(), 10)
    finally:
        await observer.close()
    with_ams = ["ams" in r and "gcode_state" in r for r in reports]
    if full:
        assert all(with_ams)
    else:
        assert any(with_ams)  # the pushall answer
        assert not all(with_ams)  # the rest are deltas
        assert all(isinstance(r["sequence_id"], str) for r in reports)


async def test_model_from_get_version_when_the_serial_is_unknown(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    _, line = await make_sim("X1C", serial="ZZZ00A000000001")
    client = await make_client(line, model=None)
    assert client.model.code == "X1C"
    assert client.info.model == "X1 Carbon"
    assert client.capabilities.chamber_temperature
    assert now(client).chamber_temp is not None  # re-parsed once the model was known


# ------------------------------------------------------------ start states


async def test_simulator_starts_from_a_captured_state(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("X1C", state_file=str(FIXTURES / "bambu" / "x1c_full_finish.json"))
    client = await make_client(line)
    trays = client.state.ams_trays
    assert len(trays) == 9
    assert trays[-1].material == "TPU"
    assert now(client).wifi_signal == -61


async def test_finish_and_failure_are_reported(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    job = PrintJob(heat_s=0.1, duration_s=600, speed=600)
    sim, line = await make_sim("A1", job=job)
    client = await make_client(line)
    state = await client.wait_for_state(lambda s: s.status is PrintStatus.FINISHED, 10)
    assert state.progress == 100
    assert state.remaining_s == 0
    job.speed = 1.0
    job.start("second.gcode")
    await client.wait_for_state(
        lambda s: s.job == "second" and s.status is not PrintStatus.FINISHED, 10
    )
    job.fail()
    state = await client.wait_for_state(lambda s: s.status is PrintStatus.ERROR, 10)
    assert state.error == "print error 0300-8005"
    assert state.hms_errors == ("HMS_0300_2000_0001_0001",)
