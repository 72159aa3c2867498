"""The Klippy side of the simulated Moonraker: identity, G-code scripts, shutdown, restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
import contextlib
import re
import time
from typing import TYPE_CHECKING, Any

from ..job import ACTIVE, JobError, Phase, PrintJob
from .files import SimFile
from .objects import GENERIC_FANS, MachineState, object_names, select

if TYPE_CHECKING:
    from .server import _Conn

SHUTDOWN_MESSAGE = (
    "Shutdown due to webhooks request\n"
    "Once the underlying issue is corrected, use the\n"
    '"FIRMWARE_RESTART" command to reset the firmware, reload the\n'
    "config, and restart the host software.\n"
    "Printer is shutdown\n"
)
_PARAM = re.compile(r"([A-Za-z_]+)=(\S+)")
_WORD = re.compile(r"([A-Za-z])(-?\d+(?:\.\d*)?)")


class RpcError(Exception):
    """A JSON-RPC error reply (code, message) as Moonraker sends them."""

    def __init__(self, code: int, message: str) -> None:
        """Keep the code next to the message."""
        super().__init__(message)
        self.code = code


class KlippyHost:
    """What Moonraker reports of Klippy, and the G-code Klippy runs."""

    job: PrintJob
    machine: MachineState
    files: dict[str, SimFile]
    history: list[dict[str, Any]]
    gcode_log: list[str]
    hostname: str
    restart_delay: float
    _conns: set[_Conn]
    _wake: asyncio.Event
    _spawn: Callable[[Coroutine[Any, Any, None]], None]

    api_key: str | None
    machine_id: str
    _ids: Iterator[int]

    async def _broadcast(self, method: str, params: list[Any] | None = None) -> None:
        raise NotImplementedError

    def objects(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    # ------------------------------------------------------------- methods

    def _require_klippy(self, method: str) -> None:
        if self.machine.klippy_state in ("disconnected", "startup"):
            raise RpcError(503, f"{method}: Klippy Disconnected")

    async def _call(self, method: str, params: dict[str, Any], conn: _Conn | None) -> Any:
        machine = self.machine
        if method == "server.connection.identify":
            key = params.get("api_key")
            if self.api_key and key is not None:
                if key != self.api_key:
                    raise RpcError(-32602, "Invalid API Key")
                if conn is not None:
                    conn.authorized = True
            return {"connection_id": next(self._ids)}
        if conn is not None and not conn.authorized:
            raise RpcError(-32602, "Unauthorized")
        if method == "server.info":
            return self._server_info()
        if method == "machine.system_info":
            return {
                "system_info": {
                    "machine_id": self.machine_id,
                    "provider": "none",
                    "cpu_info": {"cpu_count": 2, "processor": "x86_64"},
                }
            }
        if method == "server.webcams.list":
            return {"webcams": [self._webcam_entry()]}
        if method == "server.files.list":
            return self._file_list(str(params.get("root", "gcodes")))
        if method == "server.history.list":
            return self._history_list(params)
        if method == "server.files.metadata":
            record = self.files.get(str(params.get("filename", "")))
            if record is None:
                raise RpcError(404, f"Metadata not available for <{params.get('filename')}>")
            return record.metadata()
        if method == "server.files.thumbnails":
            record = self.files.get(str(params.get("filename", "")))
            return record.thumbnail_list() if record else []
        self._require_klippy(method)
        if method == "printer.info":
            return self._printer_info()
        if method == "printer.objects.list":
            return {"objects": object_names(machine)}
        if method in ("printer.objects.subscribe", "printer.objects.query"):
            wanted = params.get("objects")
            wanted = wanted if isinstance(wanted, dict) else {}
            status = select(self.objects(), wanted)
            if method == "printer.objects.subscribe" and conn is not None:
                conn.subscription = wanted
                conn.sent = status
            return {"eventtime": time.monotonic(), "status": status}
        if method == "printer.emergency_stop":
            await self._shutdown(SHUTDOWN_MESSAGE)
            return "ok"
        if method in ("printer.firmware_restart", "printer.restart"):
            self._spawn(self._restart())
            return "ok"
        if machine.klippy_state != "ready":
            raise RpcError(400, f"Klippy is {machine.klippy_state}")
        if method == "printer.print.pause":
            with contextlib.suppress(JobError):
                self.job.pause()
            return "ok"
        if method == "printer.print.resume":
            with contextlib.suppress(JobError):
                self.job.resume()
            return "ok"
        if method == "printer.print.cancel":
            with contextlib.suppress(JobError):
                self.job.cancel()
            return "ok"
        if method == "printer.print.start":
            self._start_print(str(params.get("filename", "")))
            return "ok"
        if method == "printer.gcode.script":
            self._run_script(str(params.get("script", "")))
            return "ok"
        raise RpcError(-32601, f"Method not found: {method}")

    def _server_info(self) -> dict[str, Any]:
        state = self.machine.klippy_state
        return {
            "klippy_connected": state != "disconnected",
            "klippy_state": state,
            "components": [
                "klippy_connection",
                "jsonrpc",
                "websockets",
                "file_manager",
                "authorization",
                "machine",
                "webcam",
                "history",
            ],
            "failed_components": [],
            "registered_directories": ["config", "logs", "gcodes"],
            "warnings": [],
            "websocket_count": len(self._conns),
            "moonraker_version": "0.11.0",
            "missing_klippy_requirements": [],
            "api_version": [1, 5, 0],
            "api_version_string": "1.5.0",
        }

    def _printer_info(self) -> dict[str, Any]:
        return {
            "state": self.machine.klippy_state,
            "state_message": self.machine.klippy_message,
            "hostname": self.hostname,
            "klipper_path": "/home/pi/klipper",
            "python_path": "/home/pi/klippy-env/bin/python3",
            "process_id": 4242,
            "user_id": 1000,
            "group_id": 1000,
            "log_file": "/home/pi/printer_data/logs/klippy.log",
            "config_file": "/home/pi/printer_data/config/printer.cfg",
            "software_version": "v0.12.0-sim",
            "cpu_info": "simulated",
        }

    def _webcam_entry(self) -> dict[str, Any]:
        return {
            "name": "printercam",
            "enabled": True,
            "icon": "mdiWebcam",
            "aspect_ratio": "4:3",
            "target_fps": 15,
            "target_fps_idle": 5,
            "location": "printer",
            "service": "mjpegstreamer",
            "stream_url": "/webcam/?action=stream",
            "snapshot_url": "/webcam/?action=snapshot",
            "flip_horizontal": False,
            "flip_vertical": False,
            "rotation": 0,
            "source": "config",
            "extra_data": {},
            "uid": "b8dfd7e1-ea86-504b-bccf-52e8bd88e084",
        }

    def _start_print(self, filename: str) -> None:
        record = self.files.get(filename)
        if record is None:
            raise RpcError(400, "Unable to open file")  # Klippy names no file
        if self.job.phase in ACTIVE:
            raise RpcError(400, "SD busy")  # what Klippy's virtual_sdcard answers
        if record.total_layers:
            self.job.total_layers = record.total_layers
        self.machine.file_size = record.size
        self.job.start(filename)
        self.record_job(filename)

    def record_job(self, filename: str) -> None:
        """A job started: its ``server.history`` entry, newest first."""
        record = self.files.get(filename)
        self.history.insert(
            0,
            {
                "job_id": f"{len(self.history) + 1:06X}",
                "user": "_API_KEY_USER_",
                "filename": filename,
                "start_time": time.time(),
                "metadata": record.metadata() if record else {},
                "auxiliary_data": [],
            },
        )

    def _file_list(self, root: str) -> list[dict[str, Any]]:
        """``server.files.list``: every file of the root, as Moonraker 0.9+ lists them."""
        if root != "gcodes":
            raise RpcError(400, f"Invalid root path ({root})")
        return [
            {"path": f.path, "modified": f.modified, "size": f.size, "permissions": "rw"}
            for f in self.files.values()
        ]

    def _history_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """``server.history.list``: newest first (``order`` asc reverses), ``limit`` jobs."""
        jobs = [dict(job) for job in self.history]
        if jobs:  # the newest entry follows the running job
            newest = jobs[0]
            status = {
                Phase.FINISHED: "completed",
                Phase.CANCELLED: "cancelled",
                Phase.ERROR: "error",
            }.get(self.job.phase, "in_progress")
            newest["status"] = status if self.job.file == newest["filename"] else "completed"
        for job in jobs:
            job.setdefault("status", "completed")
            job["exists"] = job["filename"] in self.files
        if params.get("order") == "asc":
            jobs.reverse()
        limit = params.get("limit", 50)
        if isinstance(limit, int) and limit > 0:
            jobs = jobs[:limit]
        return {"count": len(self.history), "jobs": jobs}

    def _run_script(self, script: str) -> None:
        for raw in script.splitlines():
            line = raw.split(";", 1)[0].strip()
            if line:
                self.gcode_log.append(line)
                self._run_line(line)

    def _run_line(self, line: str) -> None:
        command, _, rest = line.partition(" ")
        command = command.upper()
        params = {k.upper(): v for k, v in _PARAM.findall(rest)}
        words = {k.upper(): float(v) for k, v in _WORD.findall(rest)}
        job = self.job
        if command == "SET_HEATER_TEMPERATURE":
            target = float(params.get("TARGET", 0))
            heater = params.get("HEATER", "")
            if heater == "extruder":
                job.set_nozzle_target(target)
            elif heater == "heater_bed":
                job.set_bed_target(target)
            else:
                raise RpcError(400, f'Unknown heater "{heater}"')
        elif command in ("M104", "M109"):
            job.set_nozzle_target(words.get("S", 0.0))
        elif command in ("M140", "M190"):
            job.set_bed_target(words.get("S", 0.0))
        elif command == "M220":
            job.set_speed_factor(round(words.get("S", 100.0)))
        elif command == "M106":
            job.set_fan("part", round(min(255.0, words.get("S", 255.0)) * 100 / 255))
            self._wake.set()
        elif command == "M107":
            job.set_fan("part", 0)
            self._wake.set()
        elif command == "SET_FAN_SPEED" and self.machine.generic_fans:
            fan = GENERIC_FANS.get(f"fan_generic {params.get('FAN', '')}")
            if fan is None:
                raise RpcError(400, f"The value '{params.get('FAN')}' is not valid for FAN")
            try:
                speed = float(params.get("SPEED", ""))
            except ValueError:
                raise RpcError(400, "SET_FAN_SPEED needs SPEED=<0-1>") from None
            job.set_fan(fan, round(min(1.0, max(0.0, speed)) * 100))
        elif command in ("SET_PIN", "SET_LED") and self.machine.has_light:
            kind, _, name = self.machine.light_object.partition(" ")
            given = params.get("PIN" if command == "SET_PIN" else "LED")
            if given != name or (command == "SET_PIN") != (kind == "output_pin"):
                raise RpcError(400, f"{command}: {given} is not configured")
            key = "VALUE" if command == "SET_PIN" else "WHITE"
            self.machine.light_value = float(params.get(key, 0))
            job.set_light(self.machine.light_value > 0)
        elif command in ("G0", "G1"):
            for axis in "XYZ":
                value = words.get(axis)
                if value is not None and not -5.0 <= value <= 200.0:
                    raise RpcError(400, f"Move out of range: {value:.3f}")
        elif command in ("PAUSE", "RESUME", "CANCEL_PRINT"):
            action = {"PAUSE": job.pause, "RESUME": job.resume, "CANCEL_PRINT": job.cancel}
            with contextlib.suppress(JobError):
                action[command]()
        elif command in (
            "G28",
            "G90",
            "G91",
            "M82",
            "M83",
            "M105",
            "M400",
            "M117",
            "G4",
            "SET_KINEMATIC_POSITION",
            "SET_PRINT_STATS_INFO",
        ):
            pass
        elif command == "FIRMWARE_RESTART":
            self._spawn(self._restart())
        else:  # Klipper answers unknown commands with a message, not an error
            self._spawn(self._broadcast("notify_gcode_response", [f'Unknown command:"{command}"']))

    async def _shutdown(self, message: str) -> None:
        if self.job.phase in ACTIVE:
            with contextlib.suppress(JobError):
                self.job.cancel()
        self.machine.klippy_state = "shutdown"
        self.machine.klippy_message = message
        await self._broadcast("notify_klippy_shutdown")
        self._wake.set()

    async def _restart(self) -> None:
        """FIRMWARE_RESTART: Klippy disconnects, comes back in startup, then ready."""
        await asyncio.sleep(0.05)
        self.machine.klippy_state = "disconnected"
        self.machine.klippy_message = "Klippy Disconnected"
        for conn in self._conns:
            conn.subscription = {}
            conn.sent = {}
        await self._broadcast("notify_klippy_disconnected")
        await asyncio.sleep(self.restart_delay / 2)
        self.machine.klippy_state = "startup"
        self.machine.klippy_message = "Printer is not ready"
        # a restarted Klippy has forgotten any job: print_stats is back to standby
        with contextlib.suppress(JobError):
            if self.job.phase in ACTIVE:
                self.job.cancel()
            self.job.clear()
        await asyncio.sleep(self.restart_delay / 2)
        self.machine.klippy_state = "ready"
        self.machine.klippy_message = "Printer is ready"
        await self._broadcast("notify_klippy_ready")
        self._wake.set()
