"""PrusaLink client against the real Prusa-Link server (PyPI ``prusalink`` 0.8.1).

Only the Prusa-Link (Raspberry Pi) flavour has an implementation that runs off
the printer; Buddy firmware exists only on the printers, so that flavour is
covered by the simulator alone. Prusa-Link needs a serial printer to go past
its ERROR state ("Serial device ... not found"); without one it still serves
its real HTTP API, digest authentication and API key, which is what this
tier checks: httpx's digest answers (qop=auth, MD5-sess, opaque, a nonce
bound to the User-Agent) are accepted by the real server, wrong credentials
are refused, and the real payloads parse.

Prusa-Link registers zeroconf services on every interface, so it runs in a
private network namespace (``unshare -n``) that has only loopback; the client
runs in the same namespace. pytest starts ``unshare``, which runs this module
as a script (the driver below) and prints one JSON object with what it saw.

Installing the peer (the interop installer's job):
``python3.11 -m venv .interop/prusalink-venv && .interop/prusalink-venv/bin/pip install
prusalink==0.8.1`` (needs ``libcap-dev`` to build ``python-prctl`` and ``libturbojpeg0``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / ".interop"
PEER_PORT = 8080
USERNAME = "maker"
PASSWORD = "interop-password-1"
API_KEY = "interop-api-key-1"
REALM = "Administrator"


def prusalink_binary() -> Path | None:
    """The installed ``prusalink`` executable, if any."""
    configured = os.environ.get("PRINTFARM_PRUSALINK")
    candidates = [Path(configured)] if configured else []
    candidates.append(INTEROP / "prusalink-venv" / "bin" / "prusalink")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def write_config(folder: Path) -> Path:
    """Daemon config and printer settings with a digest account and an API key."""
    data = folder / "data"
    gcodes = folder / "gcodes"
    data.mkdir()
    gcodes.mkdir()
    digest = hashlib.md5(f"{USERNAME}:{REALM}:{PASSWORD}".encode()).hexdigest()
    (data / "prusa_printer_settings.ini").write_text(
        "[printer]\ntype = MK3S\nname = interop peer\nlocation = loopback\n\n"
        f"[service::local]\nenable = 1\nusername = {USERNAME}\ndigest = {digest}\n"
        f"api_key = {API_KEY}\n"
    )
    config = data / "prusalink.ini"
    config.write_text(
        f"[daemon]\ndata_dir = {data}\npid_file = {data / 'prusalink.pid'}\n\n"
        f"[http]\naddress = 127.0.0.1\nport = {PEER_PORT}\n\n"
        f"[printer]\nport = {data / 'ttyPRINTER'}\n"
        f"settings = {data / 'prusa_printer_settings.ini'}\ndirectory = {gcodes}\n\n"
        "[cameras]\nauto_detect = False\n"
    )
    return config


# --------------------------------------------------------------------- tier


@pytest.mark.interop
def test_real_prusa_link_peer() -> None:
    binary = prusalink_binary()
    if binary is None:
        pytest.skip("real Prusa-Link not installed (.interop/prusalink-venv, see module doc)")
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip for a private network namespace")
    INTEROP.mkdir(exist_ok=True)
    # Prusa-Link refuses storage under /tmp, so the scratch folder lives in .interop/
    folder = Path(tempfile.mkdtemp(prefix="prusalink-run-", dir=INTEROP))
    try:
        config = write_config(folder)
        flags = "-n" if os.geteuid() == 0 else "-rn"
        script = (
            "ip link set lo up && exec "
            f'"{sys.executable}" -m tests.printers.prusalink.test_interop "{binary}" "{config}"'
        )
        done = subprocess.run(
            [unshare, flags, "sh", "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 and "unshare" in done.stderr:
            pytest.skip(f"cannot make a network namespace here: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr[-3000:]
        seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    digest = seen["digest"]
    assert digest["connected"] is True
    assert digest["name"] == "interop peer"
    assert digest["firmware"] == "PrusaLink 0.8.1"
    assert digest["model"] is None  # "Unknown printer type" until a printer answers
    assert digest["unique_id"] == digest["version_hostname"]  # no serial without a printer
    assert digest["unique_id"] != "connect.prusa3d.com"
    # no printer on the serial port: the server says ERROR and why
    assert digest["native_status"] == "ERROR"
    assert digest["status"] == "error"
    assert digest["error"]
    assert digest["camera"] == "none"
    assert digest["refreshes"] == 5
    assert digest["pause_reason"] == "not_printing"
    assert digest["thumbnail"] is None
    assert digest["temperature_control"] is True
    assert digest["bed_target"] == "not_confirmed"
    assert digest["bed_too_hot"] == "invalid_value"
    assert seen["wrong_password"] == "PrinterAuthError"
    assert seen["wrong_user"] == "PrinterAuthError"
    assert seen["api_key"] == "error"
    assert seen["wrong_api_key"] == "PrinterAuthError"


# --------------------------------------------------------------------- driver


def _wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)  # polling a child process's port from a plain script, not a test
    raise SystemExit("Prusa-Link did not open its port")


async def _drive() -> dict[str, Any]:
    # imported here: the driver runs as a script inside the namespace
    from custom_components.printfarm.printers import (
        PrinterCommandError,
        PrinterError,
    )
    from custom_components.printfarm.printers.prusalink import PrusaLinkClient

    seen: dict[str, Any] = {}

    def client(**kwargs: Any) -> PrusaLinkClient:
        options: dict[str, Any] = {"port": PEER_PORT, "username": USERNAME, "poll_interval": 60}
        options.update(kwargs)
        return PrusaLinkClient("127.0.0.1", **options)

    main = client(password=PASSWORD)
    await main.connect()
    try:
        for _ in range(5):
            await main.refresh()
        # Right after start the server may still say BUSY while it looks for a
        # printer on its serial port; poll the real peer until it settles.
        settle = time.monotonic() + 30
        while main.state.native_status != "ERROR" and time.monotonic() < settle:
            await asyncio.sleep(0.5)
            await main.refresh()
        try:
            await main.pause()
            pause_reason = "none"
        except PrinterCommandError as err:
            pause_reason = err.reason
        # the real server accepts the POST (digest with a JSON body); with no printer
        # on the serial port the new target is never reported, so it stays unconfirmed
        main.confirm_timeout = 1.0
        try:
            await main.set_bed_target(50)
            bed = "confirmed"
        except PrinterCommandError as err:
            bed = err.reason
        try:  # past Prusa-Link's own limit (125 °C): its 400 answer, mapped
            await main._control("/api/printer/bed", {"command": "target", "target": 200}, "bed")
            too_hot = "accepted"
        except PrinterCommandError as err:
            too_hot = err.reason
        state = main.state
        seen["digest"] = {
            "connected": state.connected,
            "name": main.info.name,
            "firmware": main.info.firmware,
            "model": main.info.model,
            "unique_id": main.info.unique_id,
            "version_hostname": main.version.hostname if main.version else None,
            "status": state.status.value,
            "native_status": state.native_status,
            "error": state.error,
            "camera": main.capabilities.camera.value,
            "refreshes": 5,
            "pause_reason": pause_reason,
            "temperature_control": main.capabilities.temperature_control,
            "bed_target": bed,
            "bed_too_hot": too_hot,
            "thumbnail": await main.thumbnail(),
        }
    finally:
        await main.close()

    async def outcome(**kwargs: Any) -> str:
        other = client(**kwargs)
        try:
            await other.connect()
        except PrinterError as err:
            return type(err).__name__
        finally:
            await other.close()
        return "connected"

    seen["wrong_password"] = await outcome(password="not-the-password")
    seen["wrong_user"] = await outcome(username="intruder", password=PASSWORD)
    keyed = client(api_key=API_KEY)
    await keyed.connect()
    seen["api_key"] = keyed.state.status.value
    await keyed.close()
    seen["wrong_api_key"] = await outcome(api_key="not-the-key")
    return seen


def main(binary: str, config: str) -> int:
    """Start Prusa-Link, drive the client against it, print what was seen as JSON."""
    log = Path(config).parent / "prusalink.log"
    with log.open("wb") as out:
        peer = subprocess.Popen([binary, "-f", "-c", config], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(PEER_PORT, time.monotonic() + 30)
        seen = asyncio.run(_drive())
    finally:
        peer.terminate()
        try:
            peer.wait(10)
        except subprocess.TimeoutExpired:
            peer.kill()
            peer.wait()
    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
