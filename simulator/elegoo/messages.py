"""What the simulated Centauri Carbon sends: status, attributes, acks, errors, discovery."""

from __future__ import annotations

import json
import time
from typing import Any

from ..base import SimOptions
from ..job import ACTIVE, Phase, PrintJob

#: Job phase -> Centauri Carbon ``PrintInfo.Status``.
PHASE_CODES: dict[Phase, int] = {
    Phase.IDLE: 0,
    Phase.HEATING: 16,
    Phase.PRINTING: 13,
    Phase.PAUSED: 6,
    Phase.FINISHED: 9,
    Phase.CANCELLED: 8,
    Phase.ERROR: 14,
}
#: Transitional codes pushed once before the phase a command leads to.
PAUSING, STOPPING, RESUMING = 5, 7, 12
#: The only ``PrintSpeedPct`` values the firmware applies (silent, balanced, sport, ludicrous).
SPEED_PRESET_PCTS = (50, 100, 130, 160)
#: ErrorCode sent on ``sdcp/error`` when the job fails.
ERROR_CODE_FAILED = 1


class Messages:
    """Builds the printer's SDCP v3 messages from the shared print job."""

    job: PrintJob
    options: SimOptions
    ticks_ms: bool
    mainboard_id: str
    firmware: str
    model: str
    name: str
    streams: int
    _rgb: list[int]
    _task_id: int

    def _status_message(self, code_override: int | None = None) -> dict[str, Any]:
        snap = self.job.tick()
        scale = 1000 if self.ticks_ms else 1
        active = snap.phase in ACTIVE or code_override is not None
        z = round(snap.layer * 0.2, 2)
        status = {
            "CurrentStatus": [1 if active else 0],
            "TimeLapseStatus": 0,
            "PlatFormType": 0,
            "TempOfHotbed": snap.bed_temp,
            "TempOfNozzle": snap.nozzle_temp,
            "TempOfBox": snap.chamber_temp,
            "TempTargetHotbed": round(snap.bed_target),
            "TempTargetNozzle": round(snap.nozzle_target),
            "TempTargetBox": 0,
            "CurrenCoord": f"128.00,128.00,{z:.2f}",
            "CurrentFanSpeed": {
                "ModelFan": snap.fan,
                "AuxiliaryFan": snap.aux_fan,
                "BoxFan": snap.chamber_fan,
            },
            "ZOffset": 0.0,
            "LightStatus": {"SecondLight": int(snap.light_on), "RgbLight": list(self._rgb)},
            "PrintInfo": {
                "Status": PHASE_CODES[snap.phase] if code_override is None else code_override,
                "CurrentLayer": snap.layer,
                "TotalLayer": snap.total_layers,
                "CurrentTicks": round(snap.elapsed_s * scale),
                "TotalTicks": round((snap.elapsed_s + snap.remaining_s) * scale),
                "Filename": snap.file or "",
                "TaskId": f"task-{self._task_id}" if snap.file else "",
                "PrintSpeedPct": snap.speed_factor,
                "Progress": int(snap.progress * 100),
            },
        }
        return {
            "Status": status,
            "MainboardID": self.mainboard_id,
            "TimeStamp": int(time.time()),
            "Topic": f"sdcp/status/{self.mainboard_id}",
        }

    def attributes(self) -> dict[str, Any]:
        """The ``Attributes`` object (also the discovery reply's source)."""
        return {
            "Name": self.name,
            "MachineName": self.model,
            "BrandName": "ELEGOO",
            "ProtocolVersion": "V3.0.0",
            "FirmwareVersion": self.firmware,
            "XYZsize": "256x256x256",
            "MainboardIP": self.options.host,
            "MainboardID": self.mainboard_id,
            "NumberOfVideoStreamConnected": self.streams,
            "MaximumVideoStreamAllowed": 1,
            "NumberOfCloudSDCPServicesConnected": 0,
            "MaximumCloudSDCPSercicesAllowed": 1,
            "NetworkStatus": "wlan",
            "UsbDiskStatus": 0,
            "Capabilities": ["FILE_TRANSFER", "PRINT_CONTROL", "VIDEO_STREAM"],
            "SupportFileType": ["GCODE"],
            "DevicesStatus": {
                "ZMotorStatus": 1,
                "YMotorStatus": 1,
                "XMotorStatus": 1,
                "ExtruderMotorStatus": 1,
                "RelaseFilmState": 0,
            },
            "CameraStatus": 1,
            "RemainingMemory": 6 * 1024**3,
            "SDCPStatus": 1,
        }

    def _attributes_message(self) -> dict[str, Any]:
        return {
            "Attributes": self.attributes(),
            "MainboardID": self.mainboard_id,
            "TimeStamp": int(time.time()),
            "Topic": f"sdcp/attributes/{self.mainboard_id}",
        }

    def _response(self, cmd: int, request_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "Id": "",
            "Data": {
                "Cmd": cmd,
                "Data": data,
                "RequestID": request_id,
                "MainboardID": self.mainboard_id,
                "TimeStamp": int(time.time()),
            },
            "Topic": f"sdcp/response/{self.mainboard_id}",
        }

    def _error_message(self, code: int) -> dict[str, Any]:
        return {
            "Id": "",
            "Data": {
                "Data": {"ErrorCode": code},
                "MainboardID": self.mainboard_id,
                "TimeStamp": int(time.time()),
            },
            "Topic": f"sdcp/error/{self.mainboard_id}",
        }

    def discovery_reply(self) -> bytes:
        """The JSON datagram sent in answer to ``M99999``."""
        attrs = self.attributes()
        keys = ("Name", "MachineName", "BrandName", "MainboardIP", "MainboardID")
        data = {key: attrs[key] for key in keys}
        data["ProtocolVersion"] = attrs["ProtocolVersion"]
        data["FirmwareVersion"] = attrs["FirmwareVersion"]
        return json.dumps({"Id": self.mainboard_id[:32], "Data": data}).encode()
