"""PrusaLink client against the simulator, both flavours: connecting, credentials, stale nonces."""

from __future__ import annotations

import logging

import httpx
import pytest

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterKind,
    PrinterProtocolError,
    PrintStatus,
)
from custom_components.printfarm.printers.factory import create_client
from custom_components.printfarm.printers.prusalink import (
    PrusaLinkFirmwareTooOldError,
    create,
)
from custom_components.printfarm.printers.prusalink.transport import USER_AGENT
from tests.lines import client_options

from .conftest import MakeClient, MakeSim

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
