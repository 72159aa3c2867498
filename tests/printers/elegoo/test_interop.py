"""Interop: an independent SDCP implementation against the Elegoo simulator.

No Elegoo firmware runs off the printer, so the closest thing to a real peer
is a third-party client written against real Centauri Carbons: PyPI
``pycentauri`` (0.9.1). It drives the simulator over loopback from its own
virtual environment (``.interop/elegoo-peer``, Python >= 3.11, with
``pycentauri==0.9.1`` installed), while printfarm's own client watches the
same simulated printer. This checks the simulator against someone else's
reading of the protocol, and printfarm's client against states caused by
another client. Skipped unless ``PRINTFARM_INTEROP=1`` and the peer exists.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import sys
from typing import Any

import aiohttp
import pytest

from custom_components.printfarm.printers import PrintStatus
from custom_components.printfarm.printers.elegoo import ElegooClient
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.elegoo import ElegooSimulator
from simulator.job import Phase, PrintJob

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = Path(
    os.environ.get("PRINTFARM_ELEGOO_PEER_PYTHON", ROOT / ".interop/elegoo-peer/bin/python")
)

#: Runs inside the peer's venv: drive the simulator with pycentauri, print one JSON object.
DRIVER = r"""
import asyncio, json, sys
import pycentauri.client as pc
from pycentauri import camera, discovery

host = sys.argv[1]
port, video_port, disc_port = (int(arg) for arg in sys.argv[2:5])
out = {}

async def until(printer, check, timeout=10.0):
    async def scan():
        async for status in printer.watch():
            if check(status):
                return status
    return await asyncio.wait_for(scan(), timeout)

def ack_data(message):
    return (message.inner or {}).get("Data") or {}

def code(status):
    return status.print_info.status if status.print_info else None

async def main():
    found = await discovery.discover(timeout=1.5, broadcast_address=host, port=disc_port, retries=1)
    out["discovered"] = [[p.mainboard_id, p.name, p.machine_name] for p in found]
    pc.WS_PORT = port  # the library assumes 3030
    printer = await pc.Printer.connect(host, enable_control=True, push_period_ms=500)
    try:
        out["mainboard_id"] = await printer.wait_for_mainboard(5)
        status = await printer.status()
        out["first"] = {"code": code(status), "file": status.print_info.filename,
                        "nozzle_target": status.temp_nozzle_target, "coord": status.coord}
        attrs = await printer.attributes()
        out["attributes"] = [attrs.name, attrs.machine_name, attrs.firmware_version]
        out["pause_ack"] = ack_data(await printer.pause()).get("Ack")
        out["paused"] = code(await until(printer, lambda s: code(s) == 6))
        await printer.resume()
        out["resumed"] = code(await until(printer, lambda s: code(s) == 13))
        await printer.set_light(False)
        out["light"] = (await until(printer, lambda s: s.light.get("SecondLight") == 0)).light
        await printer.set_print_speed("sport")
        done = await until(printer, lambda s: s.print_info and s.print_info.print_speed == 130)
        out["speed"] = done.print_info.print_speed
        try:
            await camera.snapshot(host, port=video_port, timeout=3)
            out["snapshot_without_enable"] = "ok"
        except camera.SnapshotError as err:
            out["snapshot_without_enable"] = str(err)
        mid = out["mainboard_id"]
        enabled = await printer._request(386, {"Enable": 1}, mid)
        out["video_url"] = ack_data(enabled).get("VideoUrl")
        out["snapshot_bytes"] = len(await camera.snapshot(host, port=video_port, timeout=5))
        await printer._request(386, {"Enable": 0}, mid)
        await printer.stop()
        out["stopped"] = code(await until(printer, lambda s: code(s) == 8))
    finally:
        await printer.close()
    print(json.dumps(out))

asyncio.run(main())
"""


def peer_available() -> str | None:
    """Why the peer cannot run, or None."""
    if not PEER_PYTHON.exists():
        return f"pycentauri peer not installed ({PEER_PYTHON} missing)"
    return None


async def run_peer(line: dict[str, Any]) -> dict[str, Any]:
    """Run the pycentauri driver against the simulator; return what it saw."""
    process = await asyncio.create_subprocess_exec(
        str(PEER_PYTHON),
        "-c",
        DRIVER,
        "127.0.0.1",
        str(line["port"]),
        str(line["camera_port"]),
        str(line["extra"]["discovery_port"]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode()[-2000:]
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    print(json.dumps(result, indent=1), file=sys.stderr)
    return result


@pytest.mark.skipif(peer_available() is not None, reason=peer_available() or "")
async def test_pycentauri_drives_the_simulator_and_printfarm_sees_it() -> None:
    job = PrintJob(duration_s=3600.0, heat_s=1.0, total_layers=50)
    sim = ElegooSimulator(job, FrameSource(), SimOptions(extra={"tick_interval": 0.1}))
    line = await sim.start()
    seen: list[str | None] = []
    try:
        async with aiohttp.ClientSession() as session:
            client = ElegooClient(
                "127.0.0.1",
                port=line["port"],
                video_port=line["camera_port"],
                session=session,
                keepalive_interval=1.0,
            )
            try:
                await client.connect()
                client.add_listener(lambda s: seen.append(s.native_status))
                await client.wait_for_state(lambda s: s.status is PrintStatus.PRINTING, 10)
                result = await run_peer(line)
                # what the independent client saw
                assert result["discovered"] == [[sim.mainboard_id, sim.name, "Centauri Carbon"]]
                assert result["mainboard_id"] == sim.mainboard_id
                assert result["first"]["code"] == 13
                assert result["first"]["file"] == "benchy.gcode"
                assert result["attributes"] == [sim.name, "Centauri Carbon", "V1.1.29"]
                assert result["pause_ack"] == 0
                assert (result["paused"], result["resumed"], result["stopped"]) == (6, 13, 8)
                assert result["light"]["SecondLight"] == 0
                assert result["speed"] == 130
                assert result["video_url"] == f"http://127.0.0.1:{line['camera_port']}/video"
                assert result["snapshot_bytes"] > 1000
                # printfarm's client, on its own socket, followed every change the peer made
                await client.wait_for_state(lambda s: s.status is PrintStatus.CANCELLED, 10)
                for native in ("pausing", "paused", "resuming", "printing", "stopping", "stopped"):
                    assert native in seen
                assert client.state.light_on is False
                assert client.state.speed_preset == "sport"
                assert job.phase is Phase.CANCELLED
            finally:
                await client.close()
    finally:
        await sim.stop()
