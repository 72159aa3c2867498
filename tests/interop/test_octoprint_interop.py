"""One OctoPrint scenario, run against REAL OctoPrint 1.11.8 and against the simulator.

The real server is PyPI ``octoprint`` with its bundled Virtual Printer
(installed by ``scripts/interop/octoprint.sh``). Running the same steps on
the simulator holds it to the real peer's behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import aiohttp
from aiohttp import web
import pytest
import pytest_socket

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterAuthError,
    PrinterCommandError,
    PrinterNotSupportedError,
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.octoprint import OctoPrintClient, detect_flavour
from simulator.camera import FrameSource

from .octoprint_peer import (
    UNAVAILABLE,
    Peer,
    RealOctoPrint,
    SimOctoPrint,
    gcode,
    octoprint_binary,
)

pytestmark = pytest.mark.interop

WAIT = 30.0


def allow_loopback() -> None:
    """Fixtures run before conftest's hook re-opens loopback sockets: do it here too."""
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)


@pytest.fixture(scope="module")
def real_octoprint() -> Iterator[RealOctoPrint]:
    """One real OctoPrint for the module (it takes seconds to set up)."""
    if UNAVAILABLE.exists():
        pytest.skip(f"real OctoPrint unavailable: {UNAVAILABLE.read_text().strip()}")
    if not octoprint_binary().exists():
        pytest.fail(
            "real OctoPrint is not installed: run scripts/interop_setup (or scripts/test --interop)"
        )
    allow_loopback()
    server = RealOctoPrint()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["real", "simulator"])
async def peer(request: pytest.FixtureRequest) -> AsyncIterator[Peer]:
    """The real server or the simulator behind the same interface."""
    if request.param == "real":
        yield request.getfixturevalue("real_octoprint")
        return
    allow_loopback()
    sim = SimOctoPrint()
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def status_is(*statuses: PrintStatus) -> Callable[[PrinterState], bool]:
    return lambda state: state.status in statuses


def status_of(client: OctoPrintClient) -> PrintStatus:
    return client.state.status


@pytest.mark.parametrize("transport", ["push", "poll"])
async def test_print_cycle(peer: Peer, session: aiohttp.ClientSession, transport: str) -> None:
    """Offline printer, connect, print, pause, resume, cancel, finish, fail."""
    client = OctoPrintClient(
        peer.host,
        api_key=peer.admin_key,
        port=peer.port,
        session=session,
        poll_interval=0.5,
        fast_poll_interval=0.2,
        use_push=transport == "push",
    )
    async with client:
        assert detect_flavour(await client.identify()) == "octoprint"
        # push: passive login + socket auth worked
        assert (client._push is not None) is (transport == "push")
        assert client.info.firmware == "OctoPrint 1.11.8"
        assert client.info.model == "Default"  # the printer profile's name
        if isinstance(peer, RealOctoPrint):  # the discovery plugin is disabled there
            assert client.info.unique_id == f"127.0.0.1:{peer.port}"
        else:
            assert client.info.unique_id == peer.sim.uuid  # type: ignore[attr-defined]
        # OctoPrint is up, the printer is not connected to it: offline, not a failure
        # (the real server is shared by the module: a previous run left it after an error)
        state = client.state
        assert state.connected
        assert (state.status, state.native_status) in (
            (PrintStatus.OFFLINE, "Offline"),
            (PrintStatus.ERROR, "Offline after error"),
        )
        assert not state.control_available
        with pytest.raises(PrinterCommandError) as err:
            await client._command("api/job", {"command": "pause", "action": "pause"}, "pause")
        assert err.value.reason == "printer_offline"

        await peer.connect_printer(session)
        # temperatures follow the state by a moment on the real server
        state = await client.wait_for_state(
            lambda s: s.status is PrintStatus.IDLE and s.nozzle_temp is not None, WAIT
        )
        assert state.native_status == "Operational"
        assert state.bed_temp is not None
        with pytest.raises(PrinterCommandError) as err:
            await client._command("api/job", {"command": "pause", "action": "pause"}, "pause")
        assert err.value.reason == "not_printing"

        await peer.start_job(session, "long.gcode", 60.0)
        state = await client.wait_for_state(status_is(PrintStatus.PRINTING), WAIT)
        assert state.job == "long.gcode"
        assert state.native_status == "Printing"
        await client.pause()
        assert status_of(client) is PrintStatus.PAUSED
        assert client.state.native_status == "Paused"
        await client.resume()
        assert status_of(client) is PrintStatus.PRINTING
        await client.stop()
        assert status_of(client) is PrintStatus.CANCELLED
        state = await client.wait_for_state(lambda s: s.native_status == "Operational", WAIT)
        assert state.status is PrintStatus.CANCELLED
        assert state.job == "long.gcode"

        await client.set_bed_target(40)
        assert client.state.bed_target == 40.0
        await client.set_nozzle_target(0)
        await client.set_bed_target(0)

        await peer.start_job(session, "short.gcode", 1.0)
        state = await client.wait_for_state(status_is(PrintStatus.FINISHED), WAIT)
        assert state.progress == 100.0
        assert state.job == "short.gcode"
        assert state.native_status == "Operational"

        await client.send_gcode("!!DEBUG:maxtemp_error")
        # The real server may say "Error" for a moment before it settles on
        # "Offline after error": wait for the settled state.
        state = await client.wait_for_state(
            lambda s: s.native_status == "Offline after error", WAIT
        )
        assert state.status is PrintStatus.ERROR
        assert state.connected
        assert state.error is not None
        assert "MAXTEMP" in state.error
        assert not state.control_available
        with pytest.raises(PrinterCommandError) as err:
            await client._command("api/job", {"command": "cancel"}, "stop")
        assert err.value.reason == "printer_offline"


async def test_app_keys_and_auth(peer: Peer, session: aiohttp.ClientSession) -> None:
    """The App Keys flow end to end; a wrong key is an auth error."""
    anonymous = OctoPrintClient(peer.host, api_key=None, port=peer.port, session=session)
    assert await anonymous.probe_app_keys()
    token = await anonymous.request_app_key("printfarm", user="admin")
    assert await anonymous.poll_app_key(token) is None
    assert await peer.approve_pending(session, "printfarm") == 1
    key = await anonymous.poll_app_key(token)
    assert key is not None
    assert key != peer.admin_key
    with pytest.raises(PrinterAuthError):
        await anonymous.poll_app_key(token)  # handed out once

    async with OctoPrintClient(
        peer.host, api_key=key, port=peer.port, session=session, use_push=True
    ) as keyed:
        assert keyed.connected
        assert keyed.info.firmware == "OctoPrint 1.11.8"

    wrong = OctoPrintClient(peer.host, api_key="WRONG" * 6, port=peer.port, session=session)
    with pytest.raises(PrinterAuthError):
        await wrong.connect()


@pytest.fixture
async def jpeg_server() -> AsyncIterator[int]:
    """A stand-in webcam (mjpg-streamer's role) on 127.0.0.1; yields its port."""
    allow_loopback()
    frame = FrameSource().frame()

    async def snapshot(_: web.Request) -> web.Response:
        return web.Response(body=frame, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/snap.jpg", snapshot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def test_camera_settings(
    peer: Peer, session: aiohttp.ClientSession, jpeg_server: int
) -> None:
    """A webcam configured as 'localhost' on the OctoPrint host is reached through that host."""
    status, body = await peer.admin(
        session,
        "POST",
        "api/settings",
        {
            "plugins": {
                "classicwebcam": {
                    "snapshot": f"http://localhost:{jpeg_server}/snap.jpg",
                    "stream": "/webcam/?action=stream",
                }
            }
        },
    )
    assert status == 200, body
    async with OctoPrintClient(
        peer.host, api_key=peer.admin_key, port=peer.port, session=session, use_push=False
    ) as client:
        assert client.camera.kind is CameraKind.MJPEG
        assert client.camera.snapshot_url == f"http://127.0.0.1:{jpeg_server}/snap.jpg"
        assert client.camera.stream_url == f"http://127.0.0.1:{peer.port}/webcam/?action=stream"
        assert (await client.snapshot())[:2] == b"\xff\xd8"
    status, body = await peer.admin(
        session,
        "POST",
        "api/settings",
        {"plugins": {"classicwebcam": {"snapshot": "", "stream": ""}}},
    )
    assert status == 200, body
    async with OctoPrintClient(
        peer.host, api_key=peer.admin_key, port=peer.port, session=session, use_push=False
    ) as client:
        assert client.camera.kind is CameraKind.NONE
        with pytest.raises(PrinterNotSupportedError):
            await client.snapshot()


async def test_files_start_and_reprint(peer: Peer, session: aiohttp.ClientSession) -> None:
    """List local files (folders walked), start one, refuse while busy, reprint, refuse a
    missing one."""
    client = OctoPrintClient(
        peer.host,
        api_key=peer.admin_key,
        port=peer.port,
        session=session,
        poll_interval=0.5,
        fast_poll_interval=0.2,
        use_push=False,
    )
    async with client:
        await peer.connect_printer(session)
        await client.wait_for_state(lambda s: s.native_status == "Operational", WAIT)
        assert client.capabilities.print_files
        assert client.capabilities.reprint
        await peer.upload(session, "startable.gcode", gcode(60.0), start=False)
        status, body = await peer.admin_form(session, {"foldername": "parts", "path": ""})
        assert status == 201, body
        await peer.upload(session, "nested.gcode", gcode(60.0), start=False, folder="parts")

        files = {f.path: f for f in await client.list_files()}
        assert "startable.gcode" in files
        assert "parts/nested.gcode" in files
        assert files["parts/nested.gcode"].name == "nested.gcode"
        assert files["startable.gcode"].size == len(gcode(60.0))
        assert files["startable.gcode"].modified is not None

        await client.start_print("startable.gcode")
        assert status_of(client) in (PrintStatus.PRINTING, PrintStatus.PREPARING)
        assert client.state.job == "startable.gcode"
        with pytest.raises(PrinterCommandError) as err:
            await client.start_print("parts/nested.gcode")
        assert err.value.reason == "busy"
        # the server's own refusal, bypassing the client's check, names the same reason
        with pytest.raises(PrinterCommandError) as err:
            await client._send_start("parts/nested.gcode")
        assert err.value.reason == "busy"
        await client.stop()

        await client.reprint()  # the file stays selected after the job
        assert status_of(client) in (PrintStatus.PRINTING, PrintStatus.PREPARING)
        assert client.state.job == "startable.gcode"
        await client.stop()

        await client.start_print("parts/nested.gcode")
        assert client.state.job == "nested.gcode"
        await client.stop()
        await client.wait_for_state(lambda s: s.native_status == "Operational", WAIT)

        with pytest.raises(PrinterCommandError) as err:
            await client.start_print("not-uploaded.gcode")
        assert err.value.reason == "file_not_found"
