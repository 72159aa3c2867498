"""BambuClient against the simulated printer: real mosquitto, real TLS, loopback only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterKind,
    PrinterNotice,
    PrinterNotSupportedError,
    PrinterState,
    PrintStatus,
    Reason,
)
from custom_components.printfarm.printers.bambu import BambuClient, create
from custom_components.printfarm.printers.bambu.mqtt import AsyncMqtt
from custom_components.printfarm.printers.bambu.tls import client_context
from custom_components.printfarm.printers.limits import MAX_MESSAGE_BYTES
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


# ----------------------------------------------------------------- connect


async def test_connect_reads_identity_capabilities_and_full_state(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("P1S")
    client = await make_client(line)
    assert client.info.unique_id == sim.serial
    assert client.info.model == "P1S"
    assert client.info.firmware == "01.08.02.00"
    assert client.capabilities.camera is CameraKind.JPEG_SOCKET
    assert not client.capabilities.chamber_temperature
    assert client.camera.kind is CameraKind.JPEG_SOCKET
    state = now(client)
    assert state.connected
    assert state.native_status in ("RUNNING", "IDLE")
    assert state.nozzle_temp is not None
    assert state.wifi_signal == -45
    assert len(state.ams_trays) == 4
    assert state.control_available
    # pushall and get_version were asked for on connect, with string sequence ids
    classes = [next(iter(m)) for m in sim.requests]
    assert "pushing" in classes
    assert "info" in classes
    assert all(isinstance(next(iter(m.values()))["sequence_id"], str) for m in sim.requests)


async def test_connection_options_line_builds_a_client(make_sim: SimFactory) -> None:
    _, line = await make_sim("A1")
    options = client_options(line)
    assert options.kind == PrinterKind.BAMBU
    client = create(options, None)
    assert client.port == line["port"]
    assert client.camera_port == line["camera_port"]
    assert client.model.code == "A1"
    assert line["access_code"] not in repr(client)


async def test_wrong_access_code_is_an_auth_error(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    _, line = await make_sim("P1S")
    with pytest.raises(PrinterAuthError):
        await make_client(line, access_code="00000000")


async def test_access_code_never_reaches_the_logs(
    make_sim: SimFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim, line = await make_sim("X1C")
    caplog.set_level(logging.DEBUG)
    client = await make_client(line)
    await client.wait_for_state(printing, 10)
    await client.pause()
    sim.publish_raw(b"{broken")
    await client.refresh()
    with pytest.raises(PrinterAuthError):
        await make_client(line, access_code="99999999")
    assert caplog.records  # debug logging really ran
    assert sim.access_code not in caplog.text
    assert "99999999" not in caplog.text


async def test_tls_verification_is_on(make_sim: SimFactory, make_client: ClientFactory) -> None:
    _, line = await make_sim("P1S")
    # without the simulator's CA the certificate chain is unknown
    with pytest.raises(PrinterConnectionError, match="certificate"):
        await make_client(line, ca_file=None)
    # right CA, wrong serial: the certificate name does not match, and the report topic is wrong
    with pytest.raises(PrinterConnectionError, match="certificate"):
        await make_client(line, serial="01P00A999999999")


async def test_half_open_socket_times_out() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = BambuClient(
        "127.0.0.1",
        serial="01P00A000000001",
        access_code="12345678",
        port=port,
        request_timeout=0.5,
    )
    with pytest.raises(PrinterConnectionError, match="no MQTT answer"):
        await client.connect()
    await client.close()
    for writer in accepted:
        writer.close()
    server.close()
    await server.wait_closed()


# ---------------------------------------------------------------- commands


@pytest.mark.parametrize("model", ["P1S", "X1C"])
async def test_pause_resume_stop(
    model: str, make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim(model)
    client = await make_client(line)
    await client.wait_for_state(printing, 10)
    await client.pause()
    assert now(client).status is PrintStatus.PAUSED
    assert now(client).native_status == "PAUSE"
    await client.resume()
    assert now(client).status is PrintStatus.PRINTING
    await client.stop()
    assert now(client).status is PrintStatus.CANCELLED
    assert now(client).native_status == "FAILED"
    assert now(client).error is None
    commands = [m["print"]["command"] for m in sim.requests if "print" in m]
    assert commands == ["pause", "resume", "stop"]
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"


async def test_light_temperatures_gcode_speed_on_h2d(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("H2D")
    client = await make_client(line)
    assert client.capabilities.camera is CameraKind.RTSPS
    await client.set_light(False)
    assert now(client).light_on is False
    nodes = [m["system"]["led_node"] for m in sim.requests if "system" in m]
    assert nodes == ["chamber_light2", "chamber_light"]
    assert sim.extras.light2_on is False
    await client.set_light(True)
    assert now(client).light_on is True
    await client.set_nozzle_target(240)
    assert now(client).nozzle_target == 240
    assert client.details["nozzles"][0]["target"] == 240.0  # diagnostics only
    await client.set_bed_target(80)
    assert now(client).bed_target == 80
    await client.set_speed_preset("sport")
    assert now(client).speed_preset == "sport"
    assert now(client).speed_factor == 124
    await client.send_gcode("G28")
    gcode = [
        m["print"]["param"]
        for m in sim.requests
        if m.get("print", {}).get("command") == "gcode_line"
    ]
    assert gcode == ["M104 S240\n", "M140 S80\n", "G28\n"]
    with pytest.raises(PrinterCommandError) as err:
        await client.set_nozzle_target(400)
    assert err.value.reason == "invalid_value"
    with pytest.raises(PrinterCommandError):
        await client.set_speed_preset("warp")
    with pytest.raises(PrinterCommandError, match="unsupported command") as err:
        await client._command("print", {"command": "self_destruct"}, "bogus", None)
    assert err.value.reason == "rejected"


async def test_refresh_returns_a_fresh_full_state(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("A1")
    client = await make_client(line)
    before = sum(1 for m in sim.requests if "pushing" in m)
    state = await client.refresh()
    assert state.connected
    assert sum(1 for m in sim.requests if "pushing" in m) == before + 1


# ------------------------------------------------------------------ cameras


async def test_snapshot_from_the_jpeg_socket(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("A1")
    client = await make_client(line)
    frame = await client.snapshot()
    assert frame in sim.camera._normal
    assert sim._camera is not None
    assert sim._camera.logins == 1


async def test_x1c_camera_streams_through_the_verified_loopback_relay(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim, line = await make_sim("X1C")
    client = await make_client(line)
    assert client.camera.kind is CameraKind.RTSPS
    assert client.camera.stream_url is None  # the printer's own RTSPS URL is never handed out
    url = await client.open_stream()
    assert url is not None
    assert url.startswith(f"rtsp://bblp:{sim.access_code}@127.0.0.1:")
    assert url.endswith("/streaming/live/1")
    assert "camera_port" not in line
    with pytest.raises(PrinterNotSupportedError):
        await client.snapshot()


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
    assert statuses[0] is False
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
