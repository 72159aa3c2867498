"""``push_status`` reports shaped like each Bambu model's firmware sends them.

Field names, types and quirks follow captured reports: fan speeds, stage and
start time as strings, remaining time in minutes, Wi-Fi as "-45dBm", tray
colours as RRGGBBAA, dummy chamber temperature 5 on P1/A1, packed
``target << 16 | current`` temperatures in the H2D ``device`` block.
"""

from __future__ import annotations

from collections.abc import Mapping
import copy
from dataclasses import dataclass, field
import math
from pathlib import PurePosixPath
from typing import Any

from ..job import Phase, Snapshot
from .models import SimModel

#: print_error of a job the user cancelled (firmware reports it as FAILED).
CANCEL_ERROR = 0x0300400C
#: print_error and HMS entry the simulator reports when told to fail.
FAILURE_ERROR = 0x03008005
FAILURE_HMS = {"attr": 0x03002000, "code": 0x00010001}
#: ``fun`` feature bits with and without the authorization-control bit (0x20000000).
FUN_OPEN = "3EC18FFF9CFF"
FUN_AUTHORIZATION = "3EC1AFFF9CFF"
#: spd_lvl 1-4 -> spd_mag percent.
SPEED_MAGNITUDES = {1: 50, 2: 100, 3: 124, 4: 166}

#: Keys a captured start state (``--bambu-state``) keeps: the machine, not the job.
_KEPT_FROM_CAPTURE = ("ams", "vt_tray", "wifi_signal", "nozzle_diameter", "nozzle_type")

_STAGE_BY_PHASE = {
    Phase.HEATING: 2,  # heatbed preheating
    Phase.PRINTING: 0,
    Phase.PAUSED: 16,  # paused by the user
}
_GCODE_STATE = {
    Phase.IDLE: "IDLE",
    Phase.HEATING: "RUNNING",
    Phase.PRINTING: "RUNNING",
    Phase.PAUSED: "PAUSE",
    Phase.FINISHED: "FINISH",
    Phase.CANCELLED: "FAILED",
    Phase.ERROR: "FAILED",
}


@dataclass(slots=True)
class PrinterExtras:
    """Printer state the brand-neutral job does not hold."""

    speed_level: int = 2
    light2_on: bool = True
    door_open: bool = False
    authorization_fun: bool = False
    liveview: bool = True  # X1/H2: "LAN only liveview" on (else rtsp_url is "disable")
    job_started_at: int = 0  # Unix seconds
    sequence: int = 0
    ams_active_tray: int = 0
    wifi_dbm: int = -45
    base: dict[str, Any] = field(default_factory=dict)  # captured report to start from


def _fan_level(percent: int) -> str:
    return str(round(max(0, min(100, percent)) * 15 / 100))


def _tray(slot: int, material: str, color: str, remain: int) -> dict[str, Any]:
    return {
        "id": str(slot),
        "tray_type": material,
        "tray_sub_brands": f"{material} Basic",
        "tray_color": color,
        "cols": [color],
        "tray_info_idx": "GFA00",
        "tray_weight": "1000",
        "tray_diameter": "1.75",
        "nozzle_temp_min": "190",
        "nozzle_temp_max": "230",
        "bed_temp": "0",
        "remain": remain,
        "tag_uid": "0000000000000000",
        "tray_uuid": "00000000000000000000000000000000",
        "state": 11,
    }


def _ams(active: int, phase: Phase) -> dict[str, Any]:
    loaded = phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED)
    return {
        "ams": [
            {
                "id": "0",
                "humidity": "4",
                "temp": "24.5",
                "tray": [
                    _tray(0, "PLA", "F95959FF", 87),
                    _tray(1, "PETG", "00AE42FF", 40),
                    _tray(2, "PLA", "FFFFFFFF", -1),
                    {"id": "3"},
                ],
            }
        ],
        "ams_exist_bits": "1",
        "tray_exist_bits": "7",
        "tray_now": str(active) if loaded else "255",
        "tray_pre": "255",
        "tray_tar": "255",
        "version": 4,
    }


def _packed(current: float, target: float) -> int:
    return (round(target) << 16) | round(current)


def build_report(
    spec: SimModel, serial: str, snap: Snapshot, extras: PrinterExtras, now: float
) -> dict[str, Any]:
    """The complete ``print`` object for this instant (what ``pushall`` returns)."""
    report: dict[str, Any] = copy.deepcopy(extras.base)
    phase = snap.phase
    active = phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED)
    no_stage = -1 if spec.full_reports else 255
    stage = _STAGE_BY_PHASE.get(phase, no_stage)
    print_error = {Phase.CANCELLED: CANCEL_ERROR, Phase.ERROR: FAILURE_ERROR}.get(phase, 0)
    file = snap.file or ""
    remaining_min = math.ceil(snap.remaining_s / 60) if active else 0
    percent = 100 if phase is Phase.FINISHED else int(snap.progress * 100)
    started = extras.job_started_at if (active or phase is Phase.FINISHED) else 0
    lights = [
        {"node": "chamber_light", "mode": "on" if snap.light_on else "off"},
        {"node": "work_light", "mode": "flashing"},
    ]
    if spec.second_light:
        lights.append({"node": "chamber_light2", "mode": "on" if extras.light2_on else "off"})
    report.update(
        {
            "command": "push_status",
            "msg": 0,
            "sequence_id": str(extras.sequence),
            "gcode_state": _GCODE_STATE[phase],
            "stg_cur": stage,
            "mc_print_stage": "2" if active else "1",
            "mc_percent": percent,
            "mc_remaining_time": remaining_min,
            "layer_num": snap.layer,
            "total_layer_num": snap.total_layers,
            "gcode_file": f"/data/Metadata/{file}" if file else "",
            "subtask_name": PurePosixPath(file).stem if file else "",
            "print_type": "local" if file else "idle",
            "gcode_start_time": str(started),
            "print_error": print_error,
            "hms": [dict(FAILURE_HMS)] if phase is Phase.ERROR else [],
            "nozzle_temper": snap.nozzle_temp,
            "nozzle_target_temper": snap.nozzle_target,
            "bed_temper": snap.bed_temp,
            "bed_target_temper": snap.bed_target,
            "chamber_temper": snap.chamber_temp if spec.chamber_sensor else 5,
            "cooling_fan_speed": _fan_level(snap.fan),
            "big_fan1_speed": _fan_level(snap.aux_fan),
            "big_fan2_speed": _fan_level(snap.chamber_fan),
            "heatbreak_fan_speed": "15" if snap.nozzle_temp > 50 else "0",
            "spd_lvl": extras.speed_level,
            "spd_mag": SPEED_MAGNITUDES.get(extras.speed_level, 100),
            "wifi_signal": f"{extras.wifi_dbm}dBm",
            "lights_report": lights,
            "ams": _ams(extras.ams_active_tray, phase),
            "vt_tray": {"id": "254", "tray_type": "", "tray_color": "00000000", "remain": 0},
            "sdcard": True,
            "fun": FUN_AUTHORIZATION if extras.authorization_fun else FUN_OPEN,
            "ipcam": _ipcam(spec, extras),
        }
    )
    for key in _KEPT_FROM_CAPTURE:
        if key in extras.base:
            report[key] = copy.deepcopy(extras.base[key])
    if spec.door_sensor:
        flag = 0x00800000 if extras.door_open else 0
        report["home_flag"] = -1066934785 & ~0x00800000 | flag
    if spec.extruders > 1:
        report["stat"] = f"{0x46258008 | (0x00800000 if extras.door_open else 0):X}"
        report["nozzle_temper"] = round(snap.nozzle_temp)
        report["bed_temper"] = round(snap.bed_temp)
        report["device"] = {
            "extruder": {
                "state": 2,
                "info": [
                    {"id": 0, "temp": _packed(snap.nozzle_temp, snap.nozzle_target)},
                    {"id": 1, "temp": _packed(snap.chamber_temp, 0)},
                ],
            },
            "ctc": {"info": {"temp": _packed(snap.chamber_temp, 0)}, "state": 1},
            "bed": {"info": {"temp": _packed(snap.bed_temp, snap.bed_target)}, "state": 2},
        }
    return report


def _ipcam(spec: SimModel, extras: PrinterExtras) -> dict[str, Any]:
    ipcam: dict[str, Any] = {"ipcam_dev": "1", "ipcam_record": "enable", "resolution": "1080p"}
    if not spec.camera_socket:
        url = "rtsps://127.0.0.1:322/streaming/live/1"
        ipcam["rtsp_url"] = url if extras.liveview else "disable"
    return ipcam


def delta(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Only what changed between two reports (nested objects diffed, lists replaced)."""
    changed: dict[str, Any] = {}
    for key, value in new.items():
        if key not in old:
            changed[key] = value
        elif isinstance(value, Mapping) and isinstance(old[key], Mapping):
            inner = delta(old[key], value)
            if inner:
                changed[key] = inner
        elif value != old[key]:
            changed[key] = value
    return changed


def version_info(spec: SimModel, serial: str, sequence: str) -> dict[str, Any]:
    """The ``info`` object answering ``get_version``."""
    product = f"Bambu Lab {spec.name}"
    return {
        "command": "get_version",
        "sequence_id": sequence,
        "module": [
            {
                "name": "ota",
                "product_name": product,
                "sw_ver": "01.08.02.00",
                "hw_ver": "OTA",
                "sn": serial,
                "flag": 3,
            },
            {"name": "mc", "sw_ver": "00.00.32.89", "hw_ver": "MC07", "sn": "SIMULATED"},
            {"name": "ams/0", "sw_ver": "00.01.06.62", "hw_ver": "AMS08", "sn": f"{serial}-AMS0"},
        ],
        "result": "success",
        "reason": "",
    }
