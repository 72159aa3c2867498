"""Bambu report parsing: captured-message shapes, delta merge, status table, quirks."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.printfarm.printers import AmsTray, PrintStatus
from custom_components.printfarm.printers.bambu.models import (
    UNKNOWN_MODEL,
    spec_for,
)
from custom_components.printfarm.printers.bambu.parse import (
    EXTERNAL_UNIT,
    ParsedReport,
    as_float,
    authorization_required,
    deep_merge,
    fan_percent,
    hex_color,
    hms_code,
    parse_print,
    print_error_code,
    unpack_temperature,
    wifi_dbm,
)
from custom_components.printfarm.printers.bambu.status import GCODE_STATES, normalize

from .conftest import load

NOW = 1_700_000_600.0  # 600 s after the fixtures' gcode_start_time


def fields_of(report: ParsedReport) -> dict[str, Any]:
    """A parsed report as one dict: the state fields, details as "extra", and the auth bit."""
    return {
        **report.update,
        "extra": report.details,
        "authorization_required": report.authorization_required,
    }


def parse(name: str, model: str) -> dict[str, Any]:
    spec = spec_for(model)
    assert spec is not None
    return fields_of(parse_print(load(name)["print"], spec, NOW))


# ------------------------------------------------------------ fixture shapes


@pytest.mark.parametrize(
    ("fixture", "model", "expected"),
    [
        (
            "x1c_full_finish.json",
            "X1C",
            {
                "status": PrintStatus.FINISHED,
                "native_status": "FINISH",
                "progress": 100.0,
                "remaining_s": 0,
                "elapsed_s": None,
                "job": "Bracket v2",
                "layer": 312,
                "total_layers": 312,
                "chamber_temp": 27.0,
                "light_on": True,
                "door_open": False,
                "wifi_signal": -61,
                "speed_preset": "standard",
                "error": None,
            },
        ),
        (
            "p1s_pushall_running.json",
            "P1S",
            {
                "status": PrintStatus.PRINTING,
                "progress": 42.0,
                "remaining_s": 37 * 60,
                "elapsed_s": 600,
                "nozzle_temp": 219.90625,
                "nozzle_target": 220.0,
                "bed_target": 60.0,
                "chamber_temp": None,  # P1 reports a dummy 5: no sensor
                "fan_part_cooling": 100,
                "fan_auxiliary": 67,
                "fan_chamber": 0,
                "door_open": None,
                "job": "Calibration cube",
            },
        ),
        (
            "a1_idle.json",
            "A1",
            {
                "status": PrintStatus.IDLE,
                "job": None,
                "elapsed_s": None,
                "light_on": False,
                "speed_preset": "silent",
                "speed_factor": 50,
                "wifi_signal": -48,
            },
        ),
        (
            "h2d_running.json",
            "H2D",
            {
                "status": PrintStatus.PREPARING,  # RUNNING in the nozzle-cleaning stage
                "native_status": "RUNNING",
                "remaining_s": 115 * 60,
                "elapsed_s": None,  # gcode_start_time is null
                "nozzle_temp": 40.0,
                "chamber_temp": 49.0,
                "door_open": False,
                "light_on": True,
            },
        ),
        (
            "p1p_failed_hms.json",
            "P1P",
            {
                "status": PrintStatus.ERROR,
                "error": "print error 0300-800A",
                "hms_errors": ("HMS_0300_0100_0001_0007", "HMS_0700_2000_0002_0001"),
            },
        ),
        (
            "p1p_cancelled.json",
            "P1P",
            {"status": PrintStatus.CANCELLED, "native_status": "FAILED", "error": None},
        ),
        (
            "strings_for_numbers.json",
            "X1C",
            {
                "status": PrintStatus.PRINTING,
                "progress": 64.0,
                "remaining_s": 12 * 60,
                "layer": 100,
                "total_layers": 150,
                "nozzle_temp": 215.5,
                "nozzle_target": 215.0,
                "bed_temp": 65.0,
                "fan_part_cooling": 100,
                "fan_auxiliary": 47,
                "fan_chamber": 20,
                "speed_preset": "sport",
                "speed_factor": 124,
                "wifi_signal": -40,
                "elapsed_s": 600,
                "hms_errors": ("HMS_0300_0100_0001_0007",),
            },
        ),
    ],
)
def test_parse_fixture_shapes(fixture: str, model: str, expected: dict[str, Any]) -> None:
    fields = parse(fixture, model)
    for key, value in expected.items():
        assert fields[key] == value, key


def test_x1c_ams_trays_and_external_spool() -> None:
    trays = parse("x1c_full_finish.json", "X1C")["ams_trays"]
    assert len(trays) == 9
    assert trays[0] == AmsTray(unit=0, slot=0, material="PLA", color="#000000", remaining=93)
    assert trays[2].remaining is None  # remain -1: unknown
    assert trays[3] == AmsTray(unit=0, slot=3)  # empty slot
    active = [t for t in trays if t.active]
    assert active == [
        AmsTray(unit=1, slot=1, material="ABS", color="#489FDF", remaining=20, active=True)
    ]
    assert trays[-1].unit == EXTERNAL_UNIT
    assert trays[-1].material == "TPU"
    assert trays[-1].color == "#FF6A13"


def test_h2d_two_extruders_unpacked() -> None:
    fields = parse("h2d_running.json", "H2D")
    assert fields["extra"]["nozzles"] == [
        {"id": 0, "temp": 218.0, "target": 220.0},
        {"id": 1, "temp": 40.0, "target": 0.0},
    ]
    assert fields["extra"]["stage"] == "cleaning_nozzle_tip"
    assert fields["extra"]["liveview"] is False  # rtsp_url "disable": LAN liveview is off
    assert parse("x1c_full_finish.json", "X1C")["extra"]["liveview"] is True
    assert fields["authorization_required"] is True  # fun 41AFFF9CFF has bit 0x20000000


# ------------------------------------------------------------------ deltas


def apply(full: str, deltas: str, model: str) -> list[dict[str, Any]]:
    spec = spec_for(model)
    assert spec is not None
    raw = load(full)["print"]
    seen = [fields_of(parse_print(raw, spec, NOW))]
    for delta in load(deltas):
        raw = deep_merge(raw, delta["print"])
        seen.append(fields_of(parse_print(raw, spec, NOW)))
    return seen


def test_p1s_deltas_merge_into_the_full_state() -> None:
    states = apply("p1s_pushall_running.json", "p1s_deltas.json", "P1S")
    assert states[1]["nozzle_temp"] == 220.125
    assert states[1]["bed_temp"] == 59.96875  # untouched keys survive
    assert states[1]["progress"] == 43.0
    assert states[2]["layer"] == 52
    assert states[2]["remaining_s"] == 36 * 60
    assert [t.slot for t in states[2]["ams_trays"] if t.active] == [2]
    assert [t.slot for t in states[3]["ams_trays"] if t.active] == [3]
    assert len(states[3]["ams_trays"]) == 4  # nested merge kept the AMS units
    assert states[4]["status"] is PrintStatus.PAUSED
    assert states[5]["light_on"] is False
    assert states[5]["status"] is PrintStatus.PAUSED
    assert states[5]["job"] == "Calibration cube"


def test_h2d_deltas_door_and_stage() -> None:
    states = apply("h2d_running.json", "h2d_deltas.json", "H2D")
    assert states[1]["door_open"] is True
    assert states[2]["extra"]["nozzles"][0]["target"] == 220.0  # deep merge kept info[]
    assert states[4]["status"] is PrintStatus.PRINTING


def test_deep_merge_replaces_lists_and_merges_objects() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = deep_merge(base, {"a": {"c": [3]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # not mutated


# ------------------------------------------------------------- status table


@pytest.mark.parametrize(
    ("state", "stage", "error", "expected"),
    [
        ("IDLE", -1, 0, PrintStatus.IDLE),
        ("INIT", 255, 0, PrintStatus.IDLE),
        ("PREPARE", 0, 0, PrintStatus.PREPARING),
        ("SLICING", None, 0, PrintStatus.PREPARING),
        ("RUNNING", 0, 0, PrintStatus.PRINTING),
        ("RUNNING", 2, 0, PrintStatus.PREPARING),
        ("RUNNING", 14, 0, PrintStatus.PREPARING),
        ("RUNNING", 4, 0, PrintStatus.PRINTING),  # filament change mid-print
        ("RUNNING", 6, 0, PrintStatus.PAUSED),  # runout
        ("RUNNING", 255, 0, PrintStatus.PRINTING),
        ("PAUSE", 16, 0, PrintStatus.PAUSED),
        ("FINISH", -1, 0, PrintStatus.FINISHED),
        ("FAILED", 255, 50348044, PrintStatus.CANCELLED),
        ("FAILED", 255, 0x0300800A, PrintStatus.ERROR),
        ("FAILED", 255, 0, PrintStatus.ERROR),
        ("OFFLINE", None, 0, PrintStatus.OFFLINE),
        ("running", 0, 0, PrintStatus.PRINTING),
        ("WARMING_UP", 0, 0, None),
    ],
)
def test_status_mapping(
    state: str, stage: int | None, error: int, expected: PrintStatus | None
) -> None:
    assert normalize(state, stage, error) is expected


def test_every_gcode_state_is_documented() -> None:
    assert set(GCODE_STATES) == {
        "IDLE",
        "INIT",
        "SLICING",
        "PREPARE",
        "RUNNING",
        "PAUSE",
        "FINISH",
        "FAILED",
        "OFFLINE",
    }


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("nozzle_temper", "hot"),
        ("nozzle_temper", True),
        ("nozzle_temper", {"x": 1}),
        ("nozzle_temper", float("nan")),
        ("mc_percent", []),
        ("mc_remaining_time", "soon"),
        ("layer_num", None),
        ("cooling_fan_speed", "99"),
        ("wifi_signal", "strong"),
        ("lights_report", "on"),
        ("hms", {"attr": 1}),
        ("ams", "none"),
        ("gcode_state", 7),
        ("gcode_state", "WARMING_UP"),
        ("gcode_start_time", "yesterday"),
        ("spd_lvl", 9),
        ("stat", "zz"),
    ],
)
def test_malformed_values_never_raise(key: str, value: Any) -> None:
    spec = spec_for("H2D")
    assert spec is not None
    raw = {**load("h2d_running.json")["print"], key: value}
    report = parse_print(raw, spec, NOW)
    fields = fields_of(report)
    good = parse("h2d_running.json", "H2D")
    if key == "nozzle_temper":
        assert report.bad == {"nozzle_temper"}  # dropped from the merge by the client
    if key == "nozzle_temper":
        assert "nozzle_temp" not in fields  # the caller keeps the last good value
    if key == "gcode_state" and value == "WARMING_UP":
        assert "status" not in fields
        assert fields["native_status"] == "WARMING_UP"
    assert fields["bed_temp"] == good["bed_temp"]


def test_missing_fields_are_none() -> None:
    fields = fields_of(parse_print({}, UNKNOWN_MODEL, NOW))
    assert "status" not in fields
    assert fields["progress"] is None
    assert fields["nozzle_temp"] is None
    assert fields["ams_trays"] == ()
    assert fields["hms_errors"] == ()


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("15", 100), (15, 100), ("7", 47), ("16", None), ("x", None), (None, None)],
)
def test_fan_percent(value: Any, expected: int | None) -> None:
    result = fan_percent(value)
    assert (result if isinstance(result, int | None) else None) == expected


def test_small_converters() -> None:
    assert wifi_dbm("-45dBm") == -45
    assert wifi_dbm("-45") == -45
    assert hex_color("00AE42FF") == "#00AE42"
    assert hex_color("00ae42") == "#00AE42"
    assert hex_color("nope") is None
    assert as_float(" 21.5 ") == 21.5
    assert unpack_temperature((220 << 16) | 218) == (218.0, 220.0)
    assert unpack_temperature(40) == (40.0, 0.0)
    assert unpack_temperature(-3) is None
    assert hms_code(0x03000100, 0x00010007) == "HMS_0300_0100_0001_0007"
    assert print_error_code(50348044) == "0300-400C"


@pytest.mark.parametrize(
    ("fun", "expected"),
    [
        ("3EC1AFFF9CFF", True),  # developer mode off
        ("3EC18FFF9CFF", False),  # developer mode on
        ("41AFFF9CFF", True),
        ("11A30F9CFB", True),
        ("18FFF9CFF", False),  # bit 29 clear
        ("", None),
        ("xyz", None),
        (None, None),
        (12, None),
    ],
)
def test_authorization_control_from_fun(fun: Any, expected: bool | None) -> None:
    assert authorization_required(fun) is expected
