"""The printer side of the simulated OctoPrint: connection, state, heaters, G-code, job."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .. import traffic
from ..job import JobError, Phase, PrintJob
from .payloads import _NOT_ACTIVE, MAXTEMP, NOT_OPERATIONAL, Payloads, _error, _json


class PrinterRoutes(Payloads):
    """``/api/connection``, ``/api/printer`` (and its tool, bed, command), ``/api/job``."""

    job: PrintJob
    printer_connected: bool
    _changed: asyncio.Event

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raise NotImplementedError

    async def _connection(self, _: web.Request) -> web.Response:
        connected = self.printer_connected
        return _json(
            {
                "current": {
                    "baudrate": 115200 if connected else None,
                    "port": "VIRTUAL" if connected else None,
                    "printerProfile": "_default",
                    "state": "Operational" if connected else "Closed",
                },
                "options": {
                    "baudratePreference": None,
                    "baudrates": [250000, 230400, 115200, 57600, 38400, 19200, 9600],
                    "portPreference": None,
                    "ports": ["VIRTUAL"],
                    "printerProfilePreference": "_default",
                    "printerProfiles": [{"id": "_default", "name": "Default"}],
                },
            }
        )

    async def _connection_command(self, request: web.Request) -> web.Response:
        data = await self._body(request)
        command = data.get("command")
        if command == "connect":
            if self.job.phase is Phase.ERROR:
                self.job.clear()
            self.printer_connected = True
        elif command == "disconnect":
            self.printer_connected = False
        else:
            return _error(400, "Unknown command")
        self._changed.set()
        return web.Response(status=204)

    async def _printer(self, _: web.Request) -> web.Response:
        traffic.sent("octoprint")
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        snap = self.job.tick()
        text = self._state_text(snap)
        return _json(
            {
                "sd": {"ready": True},
                "state": {"error": "", "flags": self._flags(snap), "text": text},
                "temperature": self._heaters(snap),
            }
        )

    async def _tool(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        targets = data.get("targets")
        if data.get("command") != "target" or not isinstance(targets, dict):
            return _error(400, "Unknown command")
        value = targets.get("tool0")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return _error(400, "Not a number for tool0")
        self.job.set_nozzle_target(float(value))
        return web.Response(status=204)

    async def _bed(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        value = data.get("target")
        if data.get("command") != "target":
            return _error(400, "Unknown command")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return _error(400, "Not a number")
        self.job.set_bed_target(float(value))
        return web.Response(status=204)

    async def _gcode(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        commands = data.get("commands")
        if commands is None and isinstance(data.get("command"), str):
            commands = [data["command"]]
        if not isinstance(commands, list):
            return _error(400, "Need either a single command or a list of commands")
        for line in commands:
            self._run_gcode(str(line).strip())
        return web.Response(status=204)

    def _run_gcode(self, line: str) -> None:
        if line.startswith("!!DEBUG:"):
            action = line.removeprefix("!!DEBUG:")
            if action == "maxtemp_error":
                self.job.fail(MAXTEMP)
            elif action == "action_disconnect":
                self.printer_connected = False
                self._changed.set()
            return
        words = line.upper().split()
        if not words:
            return
        if words[0] == "M107":
            self.job.set_fan("part", 0)
            return
        if words[0] == "M106":  # OctoPrint never reports fans; the job keeps the speed
            pwm = next((float(w[1:]) for w in words[1:] if w.startswith("S") and _num(w[1:])), 255)
            self.job.set_fan("part", round(min(255.0, max(0.0, pwm)) * 100 / 255))
            return
        value = next((float(w[1:]) for w in words[1:] if w.startswith("S") and _num(w[1:])), None)
        if value is None:
            return
        if words[0] in ("M104", "M109"):
            self.job.set_nozzle_target(value)
        elif words[0] in ("M140", "M190"):
            self.job.set_bed_target(value)

    async def _job(self, _: web.Request) -> web.Response:
        traffic.sent("octoprint")
        snap = self.job.tick()
        body = self._job_payload(snap)
        body["state"] = self._state_text(snap)
        if snap.phase is Phase.ERROR and snap.error:
            body["error"] = snap.error
        return _json(body)

    async def _job_command(self, request: web.Request) -> web.Response:
        if not self.printer_connected:
            return _error(409, NOT_OPERATIONAL)
        data = await self._body(request)
        command = data.get("command")
        phase = self.job.tick().phase
        active = phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED)
        try:
            if command == "start":
                if active:
                    return _error(
                        409, "Printer already has an active print job, did you mean 'restart'?"
                    )
                self.job.start(self.job.file)
            elif command == "pause":
                if not active:
                    return _error(409, _NOT_ACTIVE.format("pause"))
                action = data.get("action", "toggle")
                if action not in ("pause", "resume", "toggle"):
                    return _error(400, "Unknown action")
                if action == "toggle":
                    action = "resume" if phase is Phase.PAUSED else "pause"
                if action == "pause" and phase is not Phase.PAUSED:
                    self.job.pause()
                elif action == "resume" and phase is Phase.PAUSED:
                    self.job.resume()
            elif command == "cancel":
                if not active:
                    return _error(409, _NOT_ACTIVE.format("cancel"))
                self.job.cancel()
            else:
                return _error(400, f"Command {command!r} is not supported")
        except JobError as err:
            return _error(409, str(err))
        return web.Response(status=204)


def _num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
