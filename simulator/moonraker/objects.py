"""Klipper printer objects (as Moonraker serves them) built from the shared job.

Field names, value types and the after-job quirks follow captures of a real
Moonraker 0.11 + Klippy: ``print_stats`` keeps the finished job's values,
``virtual_sdcard`` resets to 0/None after a cancel but stays at 1.0 after a
completed print, and a fresh Klippy (after a restart) is back in
``standby`` with an empty filename.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..job import Phase, Snapshot

GCODES_ROOT = "/home/pi/printer_data/gcodes"
CHAMBER_OBJECT = "temperature_sensor chamber"
LIGHT_OBJECT = "output_pin caselight"
LED_OBJECT = "led chamber_light"
#: ``[fan_generic]`` fans (only with ``extra["generic_fans"]``) and the job fan each one is.
GENERIC_FANS = {"fan_generic aux_fan": "aux", "fan_generic chamber_fan": "chamber"}

#: Brand-neutral job phase -> ``print_stats.state``. Klipper heats inside the
#: file (M190/M109), so the heating phase already reads ``printing``.
PRINT_STATE: dict[Phase, str] = {
    Phase.IDLE: "standby",
    Phase.HEATING: "printing",
    Phase.PRINTING: "printing",
    Phase.PAUSED: "paused",
    Phase.FINISHED: "complete",
    Phase.CANCELLED: "cancelled",
    Phase.ERROR: "error",
}


@dataclass(slots=True)
class MachineState:
    """What the simulated machine adds to the job: Klippy, light, file size."""

    klippy_state: str = "ready"
    klippy_message: str = "Printer is ready"
    light_value: float = 1.0
    file_size: int = 0
    job_duration_s: float = 0.0
    has_chamber: bool = True
    has_light: bool = True
    light_is_led: bool = False  # an RGBW ``[led chamber_light]`` instead of an output pin
    generic_fans: bool = False  # ``[fan_generic aux_fan]`` and ``[fan_generic chamber_fan]``

    @property
    def light_object(self) -> str:
        """The Klipper object name of the light."""
        return LED_OBJECT if self.light_is_led else LIGHT_OBJECT


def object_names(machine: MachineState) -> list[str]:
    """``printer.objects.list`` result."""
    names = [
        "webhooks",
        "configfile",
        "mcu",
        "gcode_move",
        "print_stats",
        "virtual_sdcard",
        "pause_resume",
        "display_status",
        "gcode_macro CANCEL_PRINT",
        "gcode_macro PAUSE",
        "gcode_macro RESUME",
        "heaters",
        "heater_bed",
        "fan",
        "idle_timeout",
        "motion_report",
        "toolhead",
        "extruder",
    ]
    if machine.has_chamber:
        names.append(CHAMBER_OBJECT)
    if machine.has_light:
        names.append(machine.light_object)
    if machine.generic_fans:
        names.extend(GENERIC_FANS)
    return names


def build_objects(snap: Snapshot, machine: MachineState) -> dict[str, dict[str, Any]]:
    """Every object with every field the simulator serves, for this instant."""
    phase = snap.phase
    has_job = phase is not Phase.IDLE and snap.file is not None
    active = phase in (Phase.HEATING, Phase.PRINTING)
    state = PRINT_STATE[phase]
    size = machine.file_size if has_job else 0
    progress = snap.progress if has_job else 0.0
    if phase is Phase.CANCELLED:
        sd_path, sd_progress, sd_pos, sd_size = None, 0.0, 0, 0
    elif phase is Phase.FINISHED:
        sd_path, sd_progress, sd_pos, sd_size = None, 1.0, size, size
    elif has_job:
        sd_path = f"{GCODES_ROOT}/{snap.file}"
        sd_progress, sd_pos, sd_size = progress, int(progress * size), size
    else:
        sd_path, sd_progress, sd_pos, sd_size = None, 0.0, 0, 0
    objects: dict[str, dict[str, Any]] = {
        "webhooks": {"state": machine.klippy_state, "state_message": machine.klippy_message},
        "print_stats": {
            "filename": snap.file if has_job else "",
            "total_duration": float(snap.elapsed_s) if has_job else 0.0,
            "print_duration": float(progress * machine.job_duration_s) if has_job else 0.0,
            "filament_used": round(progress * 4800.0, 3) if has_job else 0.0,
            "state": state,
            "message": (snap.error or "") if phase is Phase.ERROR else "",
            "info": {
                "total_layer": snap.total_layers if has_job else None,
                "current_layer": snap.layer if has_job else None,
            },
        },
        "virtual_sdcard": {
            "file_path": sd_path,
            "progress": sd_progress,
            "is_active": active,
            "file_position": sd_pos,
            "file_size": sd_size,
        },
        "display_status": {"progress": sd_progress, "message": None},
        "pause_resume": {"is_paused": phase is Phase.PAUSED},
        "idle_timeout": {
            "state": "Printing" if active or phase is Phase.PAUSED else "Idle",
            "printing_time": float(snap.elapsed_s) if has_job else 0.0,
        },
        "extruder": {
            "temperature": snap.nozzle_temp,
            "target": snap.nozzle_target,
            "power": 1.0 if snap.nozzle_target > snap.nozzle_temp else 0.0,
        },
        "heater_bed": {
            "temperature": snap.bed_temp,
            "target": snap.bed_target,
            "power": 1.0 if snap.bed_target > snap.bed_temp else 0.0,
        },
        "fan": {"speed": snap.fan / 100, "rpm": None},
        "gcode_move": {
            "speed_factor": snap.speed_factor / 100,
            "speed": 1500.0,
            "extrude_factor": 1.0,
            "absolute_coordinates": True,
            "absolute_extrude": True,
        },
        "toolhead": {"homed_axes": "xyz", "print_time": float(snap.elapsed_s)},
        "heaters": {
            "available_heaters": ["heater_bed", "extruder"],
            "available_sensors": ["heater_bed", "extruder"]
            + ([CHAMBER_OBJECT] if machine.has_chamber else []),
        },
    }
    if machine.has_chamber:
        objects[CHAMBER_OBJECT] = {
            "temperature": snap.chamber_temp,
            "measured_min_temp": 22.0,
            "measured_max_temp": max(22.0, snap.chamber_temp),
        }
    if machine.generic_fans:
        objects["fan_generic aux_fan"] = {"speed": snap.aux_fan / 100, "rpm": None}
        objects["fan_generic chamber_fan"] = {"speed": snap.chamber_fan / 100, "rpm": None}
    if machine.has_light:
        if machine.light_is_led:
            value = machine.light_value
            objects[LED_OBJECT] = {"color_data": [[value, value, value, value]]}
        else:
            objects[LIGHT_OBJECT] = {"value": machine.light_value}
    return objects


def select(objects: dict[str, dict[str, Any]], wanted: dict[str, Any]) -> dict[str, Any]:
    """Filter objects by a subscribe/query ``objects`` parameter (unknown names skipped)."""
    result: dict[str, Any] = {}
    for name, fields in wanted.items():
        if name not in objects:
            continue
        values = objects[name]
        if isinstance(fields, list):
            # Moonraker answers a requested field the object lacks with null
            result[name] = {k: values.get(k) for k in fields}
        else:
            result[name] = dict(values)
    return result


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Changed fields only (Moonraker sends nested dicts such as ``info`` whole)."""
    changes: dict[str, Any] = {}
    for name, fields in new.items():
        before = old.get(name, {})
        changed = {k: v for k, v in fields.items() if before.get(k) != v}
        if changed:
            changes[name] = changed
    return changes
