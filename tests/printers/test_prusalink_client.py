"""PrusaLink client against the simulator over loopback, in both server flavours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import json
import logging
from typing import Any

import httpx
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterKind,
    PrinterNotSupportedError,
    PrinterProtocolError,
    PrintStatus,
)
from custom_components.printfarm.printers.factory import create_client
from custom_components.printfarm.printers.limits import MAX_MESSAGE_BYTES
from custom_components.printfarm.printers.prusalink import (
    PrusaLinkClient,
    PrusaLinkFirmwareTooOldError,
    create,
)
from custom_components.printfarm.printers.prusalink.transport import USER_AGENT, PrusaLinkHttp
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.prusalink import Override, PrusaLinkSimulator
from tests.conftest import FIXTURES
from tests.lines import client_options

WAIT = 5.0

MakeSim = Callable[..., Awaitable[tuple[PrusaLinkSimulator, dict[str, Any]]]]
MakeClient = Callable[..., PrusaLinkClient]
Sims = Callable[..., Awaitable[tuple[PrusaLinkSimulator, dict[str, Any]]]]


@pytest.fixture(params=["buddy", "pi"])
def variant(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def sims() -> AsyncIterator[Sims]:
    """Start simulators of a named flavour; all are stopped at the end."""
    started: list[PrusaLinkSimulator] = []

    async def make(
        variant: str, *, printing: bool = True, **extra: Any
    ) -> tuple[PrusaLinkSimulator, dict[str, Any]]:
        job = PrintJob(start_printing=printing, file="3DBenchy.gcode")
        sim = PrusaLinkSimulator(
            job, FrameSource(), SimOptions(extra={"variant": variant, **extra})
        )
        line = await sim.start()
        started.append(sim)
        return sim, line

    yield make
    for sim in started:
        await sim.stop()


@pytest.fixture
def make_sim(variant: str, sims: Sims) -> MakeSim:
    """Start simulators of the flavour this test run is parametrized with."""

    async def make(**kwargs: Any) -> tuple[PrusaLinkSimulator, dict[str, Any]]:
        return await sims(variant, **kwargs)

    return make


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    clients: list[PrusaLinkClient] = []

    def make(line: dict[str, Any], **kwargs: Any) -> PrusaLinkClient:
        options: dict[str, Any] = {
            "port": line["port"],
            "username": line["username"],
            "password": line["password"],
            "poll_interval": 0.05,
            "fast_poll_interval": 0.05,
            "request_timeout": 2.0,
        }
        options.update(kwargs)
        client = PrusaLinkClient(line["host"], **options)
        client.backoff.initial = 0.01
        client.backoff.maximum = 0.02
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


# ------------------------------------------------------------------ connect


async def test_connect_reads_identity_and_state(
    variant: str, make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line)
    await client.connect()
    info = client.info
    assert info.kind is PrinterKind.PRUSALINK
    assert info.unique_id == sim.identity.serial
    assert info.serial == sim.identity.serial
    assert info.firmware in ("6.5.3+12780", "3.14.1-8237")
    assert info.configuration_url == f"http://127.0.0.1:{line['port']}"
    state = client.state
    assert state.connected
    assert state.status is PrintStatus.PRINTING
    assert state.native_status == "PRINTING"
    assert state.job == "3DBenchy.gcode"
    assert state.nozzle_target == 215.0
    assert state.bed_target == 60.0
    assert client.details["job_id"] == sim.job_id
    assert client.capabilities.temperature_control is (variant == "pi")
    assert client.capabilities.speed_factor is (variant == "pi")
    assert client.capabilities.thumbnail
    if variant == "pi":
        assert info.name == sim.identity.name
        assert info.model == "MK3S"
        assert client.capabilities.camera is CameraKind.SNAPSHOT
        assert client.camera.snapshot_url is not None
    else:
        assert info.model == "XL"
        assert client.capabilities.camera is CameraKind.NONE


async def test_idle_printer_has_no_job(make_sim: MakeSim, make_client: MakeClient) -> None:
    _sim, line = await make_sim(printing=False)
    client = make_client(line)
    await client.connect()
    assert client.state.status is PrintStatus.IDLE
    assert client.state.job is None
    assert client.state.progress is None
    assert await client.thumbnail() is None
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"


async def test_one_challenge_and_one_user_agent_for_many_requests(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    """The cached challenge is reused: the printer challenges once, sees one User-Agent."""
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    for _ in range(5):
        await client.refresh()
    assert sim.challenges == 1
    assert sim.user_agents == {USER_AGENT}


async def test_wrong_password_is_an_auth_error(make_sim: MakeSim, make_client: MakeClient) -> None:
    sim, line = await make_sim()
    client = make_client({**line, "password": "wrong"})
    with pytest.raises(PrinterAuthError):
        await client.connect()
    assert sim.stale_answers == 0
    assert not client.connected


async def test_wrong_user_is_an_auth_error(make_sim: MakeSim, make_client: MakeClient) -> None:
    _sim, line = await make_sim()
    with pytest.raises(PrinterAuthError):
        await make_client({**line, "username": "intruder"}).connect()


async def test_api_key_instead_of_password(make_sim: MakeSim, make_client: MakeClient) -> None:
    sim, line = await make_sim(api_key="k3y-for-tests")
    client = make_client({**line, "password": None}, api_key="k3y-for-tests")
    await client.connect()
    assert client.state.status is PrintStatus.PRINTING
    assert sim.challenges == 0
    with pytest.raises(PrinterAuthError):
        await make_client({**line, "password": None}, api_key="wrong").connect()


async def test_create_from_the_simulator_line(make_sim: MakeSim) -> None:
    """The JSON line is exactly what ConnectionOptions and create() need."""
    _sim, line = await make_sim()
    options = client_options(line)
    client = create(options, None)
    try:
        await client.connect()
        assert client.state.status is PrintStatus.PRINTING
        assert client.poll_interval == 5.0
    finally:
        await client.close()


async def test_injected_client_is_used_and_left_open(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    _sim, line = await make_sim()
    async with httpx.AsyncClient() as session:
        client = make_client(line, client=session)
        await client.connect()
        await client.close()
        assert not session.is_closed
        response = await session.get(f"http://127.0.0.1:{line['port']}/api/version")
        assert response.status_code == 401


async def test_factory_passes_a_shared_httpx_client_and_never_closes_it(
    make_sim: MakeSim,
) -> None:
    """The HA path: create_client(..., httpx_client=shared) polls through the shared client."""
    _sim, line = await make_sim()
    options = client_options(line)
    sent: list[str] = []

    async def count(request: httpx.Request) -> None:
        sent.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [count]}) as shared:
        client = create_client(options, None, httpx_client=shared)  # type: ignore[arg-type]
        await client.connect()
        assert client.state.status is PrintStatus.PRINTING
        assert "/api/v1/status" in sent
        await client.close()
        assert not shared.is_closed
        # without one, the client builds its own, and the shared one sees nothing more
        before = len(sent)
        own = create_client(options, None)  # type: ignore[arg-type]
        await own.connect()
        await own.close()
        assert len(sent) == before


async def test_firmware_without_v1_api_is_too_old(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    _sim, line = await make_sim(no_v1=True)
    client = make_client(line)
    with pytest.raises(PrusaLinkFirmwareTooOldError) as err:
        await client.connect()
    assert isinstance(err.value, PrinterProtocolError)
    assert err.value.reason == "firmware_too_old"


async def test_legacy_version_without_firmware_field(
    variant: str, make_sim: MakeSim, make_client: MakeClient
) -> None:
    _sim, line = await make_sim(legacy_version=True)
    client = make_client(line)
    await client.connect()
    server = "2.1.2" if variant == "buddy" else "0.8.1"
    assert client.info.firmware == f"PrusaLink {server}"
    # Prusa-Link still names the printer type in "original"; legacy Buddy names nothing
    assert client.info.model == ("MK3S" if variant == "pi" else None)


# ------------------------------------------------------------------ stale nonces


async def test_stale_nonce_handled_by_httpx(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A nonce that is good for one request only: httpx re-challenges each time."""
    sim, line = await make_sim(nonce_max_uses=1)
    client = make_client(line, poll_interval=60)
    await client.connect()
    for _ in range(3):
        await client.refresh()
    assert sim.stale_answers >= 3
    assert client.state.connected


async def test_stale_twice_in_a_row_is_retried_once_around_httpx(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.digest.force_stale = 2  # the cached nonce and httpx's fresh one both go stale
    await client.refresh()
    assert sim.stale_answers == 2
    sim.digest.force_stale = 3  # our retry reuses the cached nonce, httpx fetches a new one
    await client.refresh()
    assert sim.stale_answers == 5


async def test_nonce_that_never_stops_going_stale_is_an_auth_error(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.digest.force_stale = 4
    with pytest.raises(PrinterAuthError, match="stale"):
        await client.refresh()


async def test_stale_nonce_on_a_command(make_sim: MakeSim, make_client: MakeClient) -> None:
    """Buddy closes the connection after a 401 to a PUT; httpx re-challenges on a new one."""
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.digest.force_stale = 1
    await client.pause()
    assert sim.stale_answers == 1
    assert sim.commands[-1][2] == 204
    assert client.state.status is PrintStatus.PAUSED


async def test_secrets_never_reach_the_logs(
    make_sim: MakeSim, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim, line = await make_sim(api_key="api-key-not-for-logs")
    client = make_client(line)
    await client.connect()
    await client.refresh()
    with pytest.raises(PrinterAuthError):
        await make_client({**line, "password": "wrong-password-not-for-logs"}).connect()
    with pytest.raises(PrinterAuthError):
        await make_client(line, api_key="bad-key-not-for-logs").connect()
    assert caplog.records
    for secret in (sim.password, "wrong-password-not-for-logs", "bad-key-not-for-logs"):
        assert secret not in caplog.text


# ------------------------------------------------------------------ commands


async def test_pause_resume_stop_confirmed_by_state(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    job_id = sim.job_id
    seen: list[PrintStatus] = []
    for command in (client.pause, client.resume, client.stop):
        await command()
        seen.append(client.state.status)
    assert seen == [PrintStatus.PAUSED, PrintStatus.PRINTING, PrintStatus.CANCELLED]
    assert client.state.native_status == "STOPPED"
    assert sim.commands == [
        ("PUT", f"/api/v1/job/{job_id}/pause", 204),
        ("PUT", f"/api/v1/job/{job_id}/resume", 204),
        ("DELETE", f"/api/v1/job/{job_id}", 204),
    ]


async def test_acknowledged_but_unconfirmed_command(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    """A 204 is not enough: the command succeeds only when the state follows."""
    sim, line = await make_sim()
    client = make_client(line)
    client.confirm_timeout = 0.3
    await client.connect()
    path = f"/api/v1/job/{sim.job_id}/pause"
    sim.override(path, Override(status=204, content_type="text/plain"))
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_confirmed"
    assert client.state.status is PrintStatus.PRINTING


async def test_job_id_mismatch_reports_job_changed(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    old_id = sim.job_id
    new_id = sim.replace_job("other_part.gcode")
    assert new_id != old_id
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "job_changed"
    assert sim.commands == [("PUT", f"/api/v1/job/{old_id}/pause", 404)]
    assert client.details["job_id"] == new_id
    assert client.state.job == "other_part.gcode"
    await client.pause()  # now aimed at the new job
    assert sim.commands[-1] == ("PUT", f"/api/v1/job/{new_id}/pause", 204)


async def test_wrong_state_is_a_conflict(make_sim: MakeSim, make_client: MakeClient) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sent = len(sim.commands)
    with pytest.raises(PrinterCommandError) as err:
        await client.resume()  # printing, not paused: refused before anything is sent
    assert err.value.reason == "not_paused"
    assert len(sim.commands) == sent
    with pytest.raises(PrinterCommandError) as err:
        await client._job_command("PUT", "resume", "resume")  # the printer itself says 409
    assert err.value.reason == "conflict"
    assert sim.commands[-1][2] == 409


async def test_command_refused_when_job_ended_meanwhile(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.job.cancel()  # the client has not polled since
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"
    assert client.state.status is PrintStatus.CANCELLED


async def test_attention_is_an_error_with_text(
    variant: str, make_sim: MakeSim, make_client: MakeClient
) -> None:
    """Buddy lets a job waiting for attention be stopped; Prusa-Link answers 409."""
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.attention("Filament runout")
    state = await client.refresh()
    assert state.status is PrintStatus.ERROR
    assert state.native_status == "ATTENTION"
    assert state.error == "Filament runout"
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"
    if variant == "buddy":
        await client.stop()
        assert client.state.status is PrintStatus.CANCELLED
        assert client.state.error is None
    else:
        with pytest.raises(PrinterCommandError) as err:
            await client.stop()
        assert err.value.reason == "not_printing"
        assert sim.commands[-1][2] == 409


async def test_printer_error_carries_its_message(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.job.fail("Thermal runaway")
    state = await client.refresh()
    assert state.status is PrintStatus.ERROR
    assert state.error == "Thermal runaway"


async def test_buddy_cannot_set_temperatures_or_speed(sims: Sims, make_client: MakeClient) -> None:
    _sim, line = await sims("buddy")
    client = make_client(line)
    await client.connect()
    with pytest.raises(PrinterNotSupportedError):
        await client.set_nozzle_target(200)
    with pytest.raises(PrinterNotSupportedError):
        await client.set_bed_target(60)
    with pytest.raises(PrinterNotSupportedError):
        await client.set_speed_factor(120)


async def test_prusa_link_sets_temperatures_and_speed(sims: Sims, make_client: MakeClient) -> None:
    """Through the legacy routes Prusa-Link kept, confirmed by the targets it reports."""
    sim, line = await sims("pi")
    client = make_client(line)
    await client.connect()
    await client.set_nozzle_target(205)
    assert client.state.nozzle_target == 205.0
    await client.set_bed_target(65.5)
    assert client.state.bed_target == 65.5
    await client.set_speed_factor(120)
    assert client.state.speed_factor == 120
    assert [c[:2] for c in sim.commands] == [
        ("POST", "/api/printer/tool"),
        ("POST", "/api/printer/bed"),
        ("POST", "/api/printer/printhead"),
    ]
    assert sim.job.nozzle_target == 205.0


@pytest.mark.parametrize(
    ("call", "value"),
    [
        ("set_nozzle_target", 306),
        ("set_bed_target", -1),
        ("set_speed_factor", 5),
        ("set_speed_factor", 1000),
        ("set_speed_factor", 1.5),
    ],
)
async def test_out_of_range_values_are_refused_before_sending(
    sims: Sims, make_client: MakeClient, call: str, value: Any
) -> None:
    sim, line = await sims("pi")
    client = make_client(line)
    await client.connect()
    with pytest.raises(PrinterCommandError) as err:
        await getattr(client, call)(value)
    assert err.value.reason == "invalid_value"
    assert sim.commands == []


@pytest.mark.parametrize(
    ("status", "reason"), [(400, "invalid_value"), (409, "conflict"), (404, "unsupported")]
)
async def test_refused_control_request(
    sims: Sims, make_client: MakeClient, status: int, reason: str
) -> None:
    sim, line = await sims("pi")
    client = make_client(line)
    await client.connect()
    sim.override("/api/printer/bed", Override(status=status, body=b'{"title": "x"}'))
    with pytest.raises(PrinterCommandError) as err:
        await client.set_bed_target(50)
    assert err.value.reason == reason


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
