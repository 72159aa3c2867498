"""Bambu ``gcode_state`` / ``stg_cur`` -> printfarm's status vocabulary.

``gcode_state`` is the printer's coarse state; ``stg_cur`` names the stage
inside a job (heating, levelling, paused because of a runout ...). A print the
user cancelled is reported as ``FAILED`` with ``print_error`` 0x0300400C, so
``FAILED`` only means an error when that code is absent.
"""

from __future__ import annotations

from ..models import PrintStatus

#: gcode_state -> normalized status (README table). FAILED is refined by ``print_error``.
GCODE_STATES: dict[str, PrintStatus] = {
    "IDLE": PrintStatus.IDLE,
    "INIT": PrintStatus.IDLE,  # printer booting, no job
    "SLICING": PrintStatus.PREPARING,  # cloud slicing before a job starts
    "PREPARE": PrintStatus.PREPARING,  # downloading / preparing the file
    "RUNNING": PrintStatus.PRINTING,  # refined to PREPARING by the stage, see below
    "PAUSE": PrintStatus.PAUSED,
    "FINISH": PrintStatus.FINISHED,
    "FAILED": PrintStatus.ERROR,  # CANCELLED when print_error is a cancel code
    "OFFLINE": PrintStatus.OFFLINE,
}

#: print_error values that mean "the user cancelled the job", not a failure.
CANCEL_ERRORS: frozenset[int] = frozenset({0x0300400C})  # 50348044

#: stg_cur stage ids -> readable names (-1 and 255 mean "no stage").
STAGES: dict[int, str] = {
    0: "printing",
    1: "auto_bed_leveling",
    2: "heatbed_preheating",
    3: "sweeping_xy_mech_mode",
    4: "changing_filament",
    5: "m400_pause",
    6: "paused_filament_runout",
    7: "heating_hotend",
    8: "calibrating_extrusion",
    9: "scanning_bed_surface",
    10: "inspecting_first_layer",
    11: "identifying_build_plate_type",
    12: "calibrating_micro_lidar",
    13: "homing_toolhead",
    14: "cleaning_nozzle_tip",
    15: "checking_extruder_temperature",
    16: "paused_user",
    17: "paused_front_cover_falling",
    18: "calibrating_micro_lidar",
    19: "calibrating_extrusion_flow",
    20: "paused_nozzle_temperature_malfunction",
    21: "paused_heat_bed_temperature_malfunction",
    22: "filament_unloading",
    23: "paused_skipped_step",
    24: "filament_loading",
    25: "calibrating_motor_noise",
    26: "paused_ams_lost",
    27: "paused_low_fan_speed_heat_break",
    28: "paused_chamber_temperature_control_error",
    29: "cooling_chamber",
    30: "paused_user_gcode",
    31: "motor_noise_showoff",
    32: "paused_nozzle_filament_covered_detected",
    33: "paused_cutter_error",
    34: "paused_first_layer_error",
    35: "paused_nozzle_clog",
}

#: Stages of the start sequence: a RUNNING job in one of these has not started printing.
PREPARING_STAGES: frozenset[int] = frozenset(
    {1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 19, 25, 29, 31}
)

#: Stages in which the machine is held: a RUNNING job in one of these is paused.
PAUSED_STAGES: frozenset[int] = frozenset(
    {5, 6, 16, 17, 20, 21, 23, 26, 27, 28, 30, 32, 33, 34, 35}
)


def stage_name(stage: int | None) -> str | None:
    """Readable name of a stage id, None for "no stage" and unknown ids."""
    if stage is None:
        return None
    return STAGES.get(stage)


def normalize(gcode_state: str, stage: int | None, print_error: int | None) -> PrintStatus | None:
    """Map one report to the normalized status; None for an unknown ``gcode_state``."""
    status = GCODE_STATES.get(gcode_state.strip().upper())
    if status is None:
        return None
    if status is PrintStatus.ERROR and print_error in CANCEL_ERRORS:
        return PrintStatus.CANCELLED
    if status is PrintStatus.PRINTING and stage is not None:
        if stage in PREPARING_STAGES:
            return PrintStatus.PREPARING
        if stage in PAUSED_STAGES:
            return PrintStatus.PAUSED
    return status
