"""PrusaLink client against the simulator, both flavours: images, polling, bad answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterNotSupportedError,
    PrinterProtocolError,
    PrintStatus,
)
from custom_components.printfarm.printers.limits import MAX_MESSAGE_BYTES
from custom_components.printfarm.printers.prusalink.transport import PrusaLinkHttp
from simulator.prusalink import Override
from tests.conftest import FIXTURES

from .conftest import WAIT, MakeClient, MakeSim, Sims

# ------------------------------------------------------------------ images


async def test_thumbnail_follows_the_job_reference(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    assert client.state.thumbnail_id is not None
    image = await client.thumbnail()
    assert image == sim.thumbnail_png
    assert image is not None
    assert image.startswith(b"\x89PNG")


async def test_snapshot_only_where_a_camera_exists(
    variant: str, make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    if variant == "pi":
        frame = await client.snapshot()
        assert frame.startswith(b"\xff\xd8")
        assert frame.endswith(b"\xff\xd9")
    else:
        with pytest.raises(PrinterNotSupportedError):
            await client.snapshot()


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        (Override(status=204, content_type="text/plain"), "camera_unavailable"),
        (
            Override(status=404, body=b'{"message": "Camera is not available"}'),
            "camera_unavailable",
        ),
    ],
)
async def test_snapshot_without_a_photo(
    sims: Sims, make_client: MakeClient, override: Override, reason: str
) -> None:
    sim, line = await sims("pi")
    client = make_client(line)
    await client.connect()
    sim.override("/api/v1/cameras/snap", override)
    with pytest.raises(PrinterCommandError) as err:
        await client.snapshot()
    assert err.value.reason == reason


async def test_missing_thumbnail_is_none(make_sim: MakeSim, make_client: MakeClient) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    ref = client.state.thumbnail_id
    assert ref is not None
    sim.override(httpx.URL(ref).path, Override(status=404, body=b"{}"))
    assert await client.thumbnail() is None


# ------------------------------------------------------------------ polling


async def test_poll_loop_follows_the_printer(make_sim: MakeSim, make_client: MakeClient) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    sim.job.pause()
    await client.wait_for_state(lambda s: s.status is PrintStatus.PAUSED, WAIT)
    sim.job.cancel()
    await client.wait_for_state(lambda s: s.status is PrintStatus.CANCELLED, WAIT)


async def test_server_errors_mark_offline_then_recover(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    sim.override("/api/v1/status", Override(status=500, body=b"oops", content_type="text/plain"))
    await client.wait_for_state(lambda s: s.status is PrintStatus.OFFLINE, WAIT)
    assert isinstance(client.last_error, PrinterConnectionError)
    sim.override("/api/v1/status", None)
    await client.wait_for_state(lambda s: s.status is PrintStatus.PRINTING, WAIT)


async def test_password_changed_on_the_printer_stops_the_poll_loop(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    sim.digest.password = "changed-on-the-printer"
    await client.wait_for_state(lambda s: s.status is PrintStatus.OFFLINE, WAIT)
    assert client._supervisor is not None
    await asyncio.wait_for(client._supervisor, WAIT)
    assert isinstance(client.last_error, PrinterAuthError)
    assert client.state.error is not None


async def test_bad_answers_keep_the_last_good_state_and_polling_goes_on(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    before = client.state
    garbage = Override(body=b'{"printer": {"state": ')
    sim.override("/api/v1/status", garbage)
    for _ in range(3):  # the loop meets the garbage again and again, and survives it
        garbage.served.clear()
        await asyncio.wait_for(garbage.served.wait(), WAIT)
    assert client.state == before
    assert client._supervisor is not None
    assert not client._supervisor.done()
    sim.override("/api/v1/status", None)
    sim.job.pause()
    await client.wait_for_state(lambda s: s.status is PrintStatus.PAUSED, WAIT)


@pytest.mark.parametrize(
    ("body", "native", "status"),
    [
        (b'{"printer": {"state": "LEVITATING", "temp_nozzle": "201.5"}}', "LEVITATING", "keep"),
        (b'{"printer": {"state": "BUSY"}, "job": {"id": 1}}', "BUSY", "preparing"),
        (b'{"printer": {"state": "READY", "temp_nozzle": 201.5}}', "READY", "idle"),
    ],
)
async def test_odd_states_and_types(
    make_sim: MakeSim, make_client: MakeClient, body: bytes, native: str, status: str
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.override("/api/v1/status", Override(body=body))
    state = await client.refresh()
    assert state.native_status == native
    expected = PrintStatus.PRINTING if status == "keep" else PrintStatus(status)
    assert state.status is expected
    if native != "BUSY":
        assert state.nozzle_temp == 201.5


@pytest.mark.parametrize(
    ("override", "error"),
    [
        (Override(body=b"[]"), PrinterProtocolError),
        (Override(body=b"<html>not json</html>", content_type="text/html"), PrinterProtocolError),
        (Override(body=b'{"printer": {"temp_nozzle": 20}}'), PrinterProtocolError),
        (Override(body=b" " * (MAX_MESSAGE_BYTES + 1)), PrinterProtocolError),
        (Override(status=503, body=b"", content_type="text/plain"), PrinterConnectionError),
        (
            Override(status=502, body=b"bad gateway", content_type="text/plain"),
            PrinterConnectionError,
        ),
        (Override(status=418, body=b"{}"), PrinterProtocolError),
    ],
)
async def test_bad_input_raises_typed_errors(
    make_sim: MakeSim,
    make_client: MakeClient,
    override: Override,
    error: type[Exception],
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    before = client.state
    sim.override("/api/v1/status", override)
    with pytest.raises(error):
        await client.refresh()
    assert client.state == before


async def test_bad_job_answer_does_not_break_connect(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    sim.override("/api/v1/job", Override(body=b"{broken"))
    client = make_client(line)
    with pytest.raises(PrinterProtocolError):
        await client.connect()
    sim.override("/api/v1/job", None)
    await client.connect()
    assert client.state.job == "3DBenchy.gcode"


async def test_timeout_is_a_connection_error(make_sim: MakeSim, make_client: MakeClient) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60, request_timeout=0.3)
    await client.connect()
    hold = asyncio.Event()
    sim.override("/api/v1/status", Override(body=b"{}", hold=hold))
    try:
        with pytest.raises(PrinterConnectionError, match="timed out"):
            await client.refresh()
    finally:
        hold.set()


async def test_closed_client_refuses_requests(make_sim: MakeSim, make_client: MakeClient) -> None:
    _sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    await client.close()
    assert client.state.status is PrintStatus.OFFLINE
    with pytest.raises(PrinterConnectionError):
        await client.refresh()


async def test_unreachable_printer(make_client: MakeClient) -> None:
    client = make_client({"host": "127.0.0.1", "port": 9, "username": "maker", "password": "x"})
    with pytest.raises(PrinterConnectionError):
        await client.connect()


# ------------------------------------------------------------------ faithfulness


def live_body(name: str) -> Any:
    path = FIXTURES / "prusalink" / f"live_prusalink-0.8.1_{name}.json"
    return json.loads(path.read_text())["body"]


async def test_pi_simulator_speaks_the_shapes_of_real_prusa_link(sims: Sims) -> None:
    """Held to what the real Prusa-Link 0.8.1 sent (tests/fixtures/prusalink/live_*)."""
    sim, line = await sims("pi")
    async with httpx.AsyncClient() as session:
        http = PrusaLinkHttp(
            f"http://127.0.0.1:{line['port']}",
            username=line["username"],
            password=line["password"],
            api_key=None,
            client=session,
            timeout=2.0,
        )

        async def get(method: str, path: str) -> Any:
            reply = await http.request(method, path, max_bytes=MAX_MESSAGE_BYTES)
            return json.loads(reply.body)

        assert set(await get("GET", "/api/version")) == set(live_body("version"))
        assert set(await get("GET", "/api/v1/info")) == set(live_body("info"))
        status = await get("GET", "/api/v1/status")
        real = live_body("status_no_printer")
        assert set(real) <= set(status)
        assert set(real["printer"]) <= set(status["printer"])
        assert isinstance(status["storage"], list)
        assert set(real["storage"][0]) <= set(status["storage"][0])
        error = await get("PUT", f"/api/v1/job/{sim.job_id + 5}/pause")
        assert set(error) == set(live_body("pause_wrong_job"))
