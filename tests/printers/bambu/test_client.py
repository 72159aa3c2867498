"""BambuClient against the simulated printer (mosquitto, TLS): connect, commands, camera."""

from __future__ import annotations

import asyncio
import logging

import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterKind,
    PrinterNotSupportedError,
    PrintStatus,
)
from custom_components.printfarm.printers.bambu import BambuClient, create
from tests.lines import client_options

from .conftest import ClientFactory, SimFactory, now, printing

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
    # At least the refresh's own pushall (the connect's may be counted late, under load).
    assert sum(1 for m in sim.requests if "pushing" in m) >= before + 1


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
