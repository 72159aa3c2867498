"""Elegoo SDCP parser: every fixture shape, firmware quirks and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.printfarm.printers import PrintStatus
from custom_components.printfarm.printers.elegoo.changes import TicksClock, status_changes
from custom_components.printfarm.printers.elegoo.const import ack_reason
from custom_components.printfarm.printers.elegoo.discovery import parse_reply
from custom_components.printfarm.printers.elegoo.parse import (
    AttributesReport,
    ErrorReport,
    NoticeReport,
    ResponseReport,
    SdcpParseError,
    StatusReport,
    fix_key,
    loads,
    parse_message,
)
from custom_components.printfarm.printers.elegoo.status import (
    FDM_PRINT_STATUS,
    RESIN_PRINT_STATUS,
    Flavor,
    resolve_status,
)
from tests.conftest import FIXTURES

ELEGOO = FIXTURES / "elegoo"


def fixture_text(name: str) -> str:
    return (ELEGOO / name).read_text()


def status_of(name: str, flavor: Flavor | None = None) -> dict[str, Any]:
    report = parse_message(fixture_text(name))
    assert isinstance(report, StatusReport)
    _, changes = status_changes(report, flavor or report.flavor_hint or Flavor.FDM, TicksClock())
    return dict(changes)


CC_PRINTING = {
    "status": PrintStatus.PRINTING,
    "native_status": "printing",
    "progress": 20.0,
    "elapsed_s": 1260,
    "remaining_s": 5040,
    "job": "gear_box.gcode",
    "layer": 42,
    "total_layers": 210,
    "nozzle_temp": 219.6,
    "nozzle_target": 220.0,
    "bed_temp": 59.87,
    "bed_target": 60.0,
    "chamber_temp": 31.2,
    "fan_part_cooling": 100,
    "fan_auxiliary": 40,
    "fan_chamber": 20,
    "light_on": True,
    "speed_factor": 100,
    "speed_preset": "balanced",
    "error": None,
}


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("cc_status_printing.json", CC_PRINTING),
        ("cc_status_paused.json", {"status": PrintStatus.PAUSED, "native_status": "paused"}),
        (
            "cc_status_preheating.json",
            {"status": PrintStatus.PREPARING, "native_status": "preheating", "progress": 0.0},
        ),
        (
            "cc_status_idle_after_stop.json",
            {
                "status": PrintStatus.CANCELLED,
                "native_status": "stopped",
                "job": None,
                "light_on": False,
                "nozzle_target": 0.0,
            },
        ),
        (
            "cc_status_complete.json",
            {"status": PrintStatus.FINISHED, "native_status": "complete", "progress": 100.0},
        ),
        (
            "cc_status_error.json",
            {
                "status": PrintStatus.ERROR,
                "native_status": "error",
                "error": "printer reported an error",
            },
        ),
        # an unknown job code keeps its value; CurrentStatus [1] still says printing
        ("cc_status_unknown_code.json", {"status": PrintStatus.PRINTING, "native_status": "27"}),
        ("cc_status_unknown_both.json", {"status": PrintStatus.IDLE, "native_status": "99"}),
        # hex-encoded extrusion keys, ModeFan spelling, a number sent as a string
        (
            "cc_status_hex_keys.json",
            {
                "status": PrintStatus.PRINTING,
                "filament_used_mm": 1024.5,
                "fan_part_cooling": 80,
                "nozzle_temp": 210.5,
            },
        ),
        # milliseconds on an FDM printer are recognized by their size
        ("cc_status_ms_ticks.json", {"elapsed_s": 1260, "remaining_s": 5040}),
        (
            "resin_status_exposing.json",
            {
                "status": PrintStatus.PRINTING,
                "native_status": "exposing",
                "progress": 25.0,
                "elapsed_s": 900,
                "remaining_s": 2700,
                "job": "bracket_v2.ctb",
                "chamber_temp": 24.0,
                "error": None,
            },
        ),
        (
            "resin_status_file_error.json",
            {
                "status": PrintStatus.IDLE,
                "native_status": "idle",
                "error": "file MD5 check failed",
            },
        ),
        (
            "SYNTHETIC_elegoo-ha-test-server_status_push.json",
            {
                "status": PrintStatus.PREPARING,
                "native_status": "preheating",
                "speed_factor": 100,
                "fan_part_cooling": 0,
                "layer": 500,
                "light_on": False,
                "job": "test_print_1.gcode",
            },
        ),
    ],
)
def test_status_fixtures(fixture: str, expected: dict[str, Any]) -> None:
    changes = status_of(fixture)
    assert {key: changes.get(key) for key in expected} == expected


def test_resin_fields_and_flavor_hint() -> None:
    report = parse_message(fixture_text("resin_status_exposing.json"))
    assert isinstance(report, StatusReport)
    assert report.flavor_hint is Flavor.RESIN
    assert report.uvled_temp == 38.5
    assert "nozzle_temp" not in status_of("resin_status_exposing.json")


def test_misspelled_coordinates_are_read() -> None:
    report = parse_message(fixture_text("cc_status_printing.json"))
    assert isinstance(report, StatusReport)
    assert report.position == (101.25, 87.40, 8.40)
    assert report.rgb_light == (10, 20, 30)
    assert report.mainboard_id == "5a3c9e0011223344556677889900aabb"


@pytest.mark.parametrize(
    ("fixture", "flavor", "name", "model", "camera"),
    [
        ("cc_attributes.json", Flavor.FDM, "Farm CC 3", "Centauri Carbon", True),
        ("resin_attributes.json", Flavor.RESIN, "Resin bay 1", "Saturn 4 Ultra", False),
        (
            "SYNTHETIC_elegoo-ha-test-server_attributes_push.json",
            Flavor.FDM,
            "Centauri Carbon Test",
            "Centauri Carbon",
            True,
        ),
    ],
)
def test_attributes_fixtures(
    fixture: str, flavor: Flavor, name: str, model: str, camera: bool
) -> None:
    report = parse_message(fixture_text(fixture))
    assert isinstance(report, AttributesReport)
    assert report.flavor is flavor
    assert (report.name, report.machine_name, report.has_camera) == (name, model, camera)
    assert report.mainboard_id
    assert report.protocol_version == "V3.0.0"


def test_misspelled_attribute_keys_are_corrected() -> None:
    msg = loads(fixture_text("cc_attributes.json"))
    attrs = msg["Attributes"]
    assert attrs["MaximumCloudSDCPServicesAllowed"] == 1
    assert "ReleaseFilmState" in attrs["DevicesStatus"]
    assert "RelaseFilmState" not in attrs["DevicesStatus"]


def test_responses_errors_and_notices() -> None:
    ack = parse_message(fixture_text("response_start_file_not_found.json"))
    assert ack == ResponseReport(cmd=128, request_id="9f1b7d", ack=2, data={"Ack": 2})
    video = parse_message(fixture_text("response_video_enabled.json"))
    assert isinstance(video, ResponseReport)
    assert video.data["VideoUrl"] == "http://192.0.2.40:3031/video"
    assert parse_message(fixture_text("error_push.json")) == ErrorReport(code=3)
    assert parse_message(fixture_text("notice_push.json")) == NoticeReport(
        message="Filament runout", type=1
    )


def test_discovery_reply() -> None:
    printer = parse_reply(fixture_text("discovery_reply.json").encode(), "192.0.2.40")
    assert printer is not None
    assert printer.unique_id == printer.serial == "5a3c9e0011223344556677889900aabb"
    assert (printer.name, printer.model, printer.firmware) == (
        "Farm CC 3",
        "Centauri Carbon",
        "V1.1.29",
    )
    assert printer.supported
    assert (printer.kind, printer.host, printer.port) == ("elegoo", "192.0.2.40", 3030)
    assert parse_reply(b"M99999", "192.0.2.1") is None
    assert parse_reply(b'{"Id": "x", "Data": {"Name": "no id"}}', "192.0.2.1") is None
    assert parse_reply(b"{" * 9000, "192.0.2.1") is None


@pytest.mark.parametrize(
    ("key", "fixed"),
    [
        ("54 6F 74 61 6C 45 78 74 72 75 73 69 6F 6E 00", "TotalExtrusion"),
        ("43 75 72 72 65 6E 74 45 78 74 72 75 73 69 6F 6E", "CurrentExtrusion"),
        ("CurrenCoord", "CurrentCoord"),
        ("RelaseFilmState", "ReleaseFilmState"),
        ("MaximumCloudSDCPSercicesAllowed", "MaximumCloudSDCPServicesAllowed"),
        ("FF FE", "FF FE"),  # not ASCII: kept as sent
        ("00 00", "00 00"),  # decodes to nothing: kept as sent
        ("TempOfNozzle", "TempOfNozzle"),
    ],
)
def test_fix_key(key: str, fixed: str) -> None:
    assert fix_key(key) == fixed


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "null", '"Status"', "{", b"\xff\xfe"])
def test_malformed_messages_raise_parse_error(text: str | bytes) -> None:
    with pytest.raises(SdcpParseError):
        parse_message(text)


def test_unknown_topic_is_ignored() -> None:
    assert parse_message('{"Topic": "sdcp/firmware/abc", "Data": {}}') is None
    assert parse_message("{}") is None


def test_wrong_types_leave_fields_out() -> None:
    msg = {
        "Status": {
            "CurrentStatus": "busy",
            "TempOfNozzle": {"value": 200},
            "TempTargetNozzle": True,
            "TempOfHotbed": float("nan"),
            "CurrentFanSpeed": [1, 2],
            "LightStatus": {"SecondLight": 7, "RgbLight": [1, 2, 300]},
            "CurrenCoord": "a,b,c",
            "PrintInfo": {"Status": "x", "Progress": [1], "Filename": 12, "CurrentTicks": "5"},
        },
        "Topic": "sdcp/status/abc",
    }
    report = parse_message(json.dumps(msg).replace("NaN", '"NaN"'))
    assert isinstance(report, StatusReport)
    _, changes = status_changes(report, Flavor.FDM, TicksClock())
    assert changes == {"error": None}
    assert report.position is None
    assert report.rgb_light is None


def test_progress_is_clamped_and_layers_fill_in() -> None:
    msg = {"Status": {"PrintInfo": {"Progress": 140}}, "Topic": "sdcp/status/a"}
    report = parse_message(json.dumps(msg))
    assert isinstance(report, StatusReport)
    assert status_changes(report, Flavor.FDM, TicksClock())[1]["progress"] == 100.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ticks_report(current: float, total: float) -> StatusReport:
    return StatusReport(current_ticks=current, total_ticks=total)


@pytest.mark.parametrize(
    ("flavor", "per_second", "unit"),
    [
        (Flavor.FDM, 1.0, 1.0),  # Centauri Carbon: seconds, as guessed
        (Flavor.FDM, 1000.0, 0.001),  # an FDM firmware that follows the spec: ms, measured
        (Flavor.RESIN, 1.0, 1.0),  # a resin firmware that counts seconds: measured
        (Flavor.RESIN, 1000.0, 0.001),
    ],
)
def test_ticks_unit_is_measured_while_printing(
    flavor: Flavor, per_second: float, unit: float
) -> None:
    clock = FakeClock()
    ticks = TicksClock(clock)
    ticks.seconds_per_tick(flavor, ticks_report(100 * per_second, 600), printing=True)
    clock.now += 5
    result = ticks.seconds_per_tick(flavor, ticks_report(105 * per_second, 600), printing=True)
    assert result == unit
    assert ticks.locked


@pytest.mark.parametrize("per_second", [30.0, 60.0, 100.0])
def test_accelerated_clock_keeps_the_guess(per_second: float) -> None:
    clock = FakeClock()
    ticks = TicksClock(clock)
    ticks.seconds_per_tick(Flavor.FDM, ticks_report(100 * per_second, 9000), printing=True)
    clock.now += 5
    result = ticks.seconds_per_tick(Flavor.FDM, ticks_report(105 * per_second, 9000), printing=True)
    assert (result, ticks.locked) == (1.0, False)


def test_ticks_unit_is_not_measured_across_a_pause() -> None:
    clock = FakeClock()
    ticks = TicksClock(clock)
    ticks.seconds_per_tick(Flavor.RESIN, ticks_report(100_000, 600_000), printing=True)
    ticks.seconds_per_tick(Flavor.RESIN, ticks_report(100_000, 600_000), printing=False)
    clock.now += 600
    ticks.seconds_per_tick(Flavor.RESIN, ticks_report(101_000, 600_000), printing=True)
    assert not ticks.locked


def test_every_table_code_resolves() -> None:
    for flavor, table in ((Flavor.FDM, FDM_PRINT_STATUS), (Flavor.RESIN, RESIN_PRINT_STATUS)):
        for code, (native, status) in table.items():
            resolved = resolve_status(flavor, code, (1,))
            assert resolved.native == native
            assert resolved.status is (status or PrintStatus.PRINTING)


@pytest.mark.parametrize(
    ("codes", "status"),
    [
        ((), PrintStatus.IDLE),
        ((0,), PrintStatus.IDLE),
        ((2,), PrintStatus.IDLE),
        ((4,), PrintStatus.PREPARING),
        ((0, 1), PrintStatus.PRINTING),
        ((77,), PrintStatus.IDLE),
    ],
)
def test_machine_status_fallback(codes: tuple[int, ...], status: PrintStatus) -> None:
    assert resolve_status(Flavor.FDM, None, codes).status is status


def test_resin_and_fdm_tables_differ() -> None:
    assert resolve_status(Flavor.RESIN, 3, (1,)).native == "exposing"
    assert resolve_status(Flavor.FDM, 3, (0,)).status is PrintStatus.IDLE  # resin-only code
    assert resolve_status(Flavor.FDM, 31, (1,)).native == "31"
    assert resolve_status(Flavor.FDM, 13, (1,)).status is PrintStatus.PRINTING
    assert resolve_status(Flavor.RESIN, 13, (0,)).status is PrintStatus.IDLE


def test_ack_reasons() -> None:
    assert ack_reason(128, 2) == "file_not_found"
    assert ack_reason(128, 3) == "file_invalid"  # MD5 check failed
    assert ack_reason(386, 1) == "camera_busy"  # too many streams
    assert ack_reason(129, 1) == "busy"
    assert ack_reason(129, 9) == "rejected"
