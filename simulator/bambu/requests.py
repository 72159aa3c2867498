"""What the simulated Bambu printer does with a request: replies, print control, G-code, lights."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ..job import JobError, PrintJob
from .models import SimModel
from .reports import SPEED_MAGNITUDES, PrinterExtras, version_info

#: err_code of a command refused by authorization-control firmware (0x05024007).
ERR_AUTHORIZATION = 84033543
_TEMP = re.compile(r"^(M104|M140)\b.*?\bS(-?\d+(?:\.\d+)?)", re.IGNORECASE)
#: ``M106 P<n> S<0-255>`` / ``M107 P<n>``: fan 1 part cooling, 2 auxiliary, 3 chamber.
_FAN = re.compile(r"^(M106|M107)\b(?=.*?\bP(\d))?(?=.*?\bS(\d+(?:\.\d+)?))?", re.IGNORECASE)
_FAN_BY_INDEX = {"1": "part", "2": "aux", "3": "chamber"}


class RequestHandler:
    """Answers ``device/<serial>/request`` messages the way the firmware does."""

    job: PrintJob
    spec: SimModel
    serial: str
    extras: PrinterExtras
    refuse_control: bool
    _dirty: asyncio.Event

    def _publish(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    def publish_full(self) -> None:
        raise NotImplementedError

    def _handle(self, cls: str, body: dict[str, Any]) -> None:
        command = body["command"]
        if cls == "pushing" and command in ("pushall", "start"):
            self.publish_full()
        elif cls == "info" and command == "get_version":
            self._publish(
                {"info": version_info(self.spec, self.serial, str(body.get("sequence_id", "0")))}
            )
        elif cls == "system" and command == "ledctrl":
            self._ledctrl(body)
        elif cls == "print" and not self._refuse_control(cls, body):
            self._print_command(body)

    def _reply(self, cls: str, body: dict[str, Any], **result: Any) -> None:
        reply = {
            "command": body["command"],
            "sequence_id": str(body.get("sequence_id", "0")),
            "result": "success",
            "reason": "",
        }
        reply.update(result)
        if "param" in body:
            reply["param"] = body["param"]
        self._publish({cls: reply})

    def _refuse_control(self, cls: str, body: dict[str, Any]) -> bool:
        if not self.refuse_control:
            return False
        self._reply(
            cls,
            body,
            result="failed",
            reason="mqtt message verify failed",
            err_code=ERR_AUTHORIZATION,
        )
        return True

    def _ledctrl(self, body: dict[str, Any]) -> None:
        on = body.get("led_mode") == "on"
        node = body.get("led_node")
        if node == "chamber_light":
            self._reply("system", body)
            self.job.set_light(on)
        elif node == "chamber_light2" and self.spec.second_light:
            self._reply("system", body)
            self.extras.light2_on = on
            self._dirty.set()
        else:
            self._reply("system", body, result="failed", reason="unknown led_node")

    def _print_command(self, body: dict[str, Any]) -> None:
        command = body["command"]
        actions = {"pause": self.job.pause, "resume": self.job.resume, "stop": self.job.cancel}
        try:
            if command in actions:
                actions[command]()
            elif command == "gcode_line":
                self._gcode(str(body.get("param", "")))
            elif command == "print_speed":
                self._speed(str(body.get("param", "")))
            else:
                self._reply("print", body, result="failed", reason="unsupported command")
                return
        except (JobError, ValueError) as err:
            self._reply("print", body, result="failed", reason=str(err))
            return
        self._reply("print", body)

    def _speed(self, param: str) -> None:
        level = int(param)
        if level not in SPEED_MAGNITUDES:
            raise JobError("bad speed level")
        self.extras.speed_level = level
        self.job.set_speed_factor(SPEED_MAGNITUDES[level])

    def _fan(self, match: re.Match[str]) -> None:
        which = _FAN_BY_INDEX.get(match.group(2) or "1")
        if which is None:
            return  # other fan indexes exist on the printer but are not reported
        pwm = 0.0 if match.group(1).upper() == "M107" else float(match.group(3) or 255)
        self.job.set_fan(which, round(min(255.0, pwm) * 100 / 255))

    def _gcode(self, gcode: str) -> None:
        for line in gcode.splitlines():
            fan = _FAN.match(line.strip())
            if fan is not None:
                self._fan(fan)
                continue
            match = _TEMP.match(line.strip())
            if match is None:
                continue
            target = float(match.group(2))
            if match.group(1).upper() == "M104":
                self.job.set_nozzle_target(target)
            else:
                self.job.set_bed_target(target)
