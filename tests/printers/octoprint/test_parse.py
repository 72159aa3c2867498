"""OctoPrint answers parsed: captured shapes, flavours, URLs, status mapping, bad shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from custom_components.printfarm.printers import (
    CameraKind,
    PrinterProtocolError,
    PrintStatus,
)
from custom_components.printfarm.printers.octoprint import STATUS_MAP, detect_flavour
from custom_components.printfarm.printers.octoprint.camera import camera_info, resolve_url
from custom_components.printfarm.printers.octoprint.control import conflict_reason
from custom_components.printfarm.printers.octoprint.parse import (
    VersionInfo,
    WebcamSettings,
    parse_connection,
    parse_current,
    parse_job,
    parse_printer,
    parse_version,
    parse_webcam,
)
from custom_components.printfarm.printers.octoprint.status import job_outcome, map_status

from .conftest import FIXTURE_DIR, load


@pytest.mark.parametrize(
    ("fixture", "state", "status", "display", "completion", "error"),
    [
        ("live_job_offline.json", "Offline", PrintStatus.OFFLINE, None, None, None),
        ("live_job_operational_idle.json", "Operational", PrintStatus.IDLE, None, None, None),
        ("live_job_printing.json", "Printing", PrintStatus.PRINTING, "cube.gcode", 15.99, None),
        ("live_job_paused.json", "Paused", PrintStatus.PAUSED, "cube.gcode", 15.99, None),
        ("live_job_resumed.json", "Printing", PrintStatus.PRINTING, "cube.gcode", None, None),
        ("live_job_cancelled.json", "Operational", PrintStatus.IDLE, "cube.gcode", None, None),
        ("live_job_finished.json", "Operational", PrintStatus.IDLE, "short.gcode", 100.0, None),
        (
            "live_job_error.json",
            "Offline after error",
            PrintStatus.ERROR,
            None,
            None,
            "MAXTEMP triggered! - Not SD printing",
        ),
    ],
)
def test_job_captures(
    fixture: str,
    state: str,
    status: PrintStatus,
    display: str | None,
    completion: float | None,
    error: str | None,
) -> None:
    captured = load(fixture)
    assert captured["status"] == 200
    job = parse_job(captured["body"])
    assert job.state == state
    assert map_status(job.state) is status
    assert job.file_display == display
    if completion is None:
        assert job.completion is None or fixture == "live_job_resumed.json"
    else:
        assert job.completion == pytest.approx(completion, abs=0.01)
    assert job.error == error


@pytest.mark.parametrize(
    ("fixture", "text", "status", "nozzle", "bed_target"),
    [
        ("live_printer_operational.json", "Operational", PrintStatus.IDLE, 21.3, 0.0),
        ("live_printer_printing.json", "Printing", PrintStatus.PRINTING, 33.52, 60.0),
        ("live_printer_paused.json", "Paused", PrintStatus.PAUSED, 33.52, 60.0),
        ("live_printer_after_cancel.json", "Operational", PrintStatus.IDLE, 53.75, 0.0),
        ("live_printer_finished.json", "Operational", PrintStatus.IDLE, 22.55, 0.0),
    ],
)
def test_printer_captures(
    fixture: str, text: str, status: PrintStatus, nozzle: float, bed_target: float
) -> None:
    report = parse_printer(load(fixture)["body"])
    assert report.text == text
    assert map_status(report.text, report.flags) is status
    assert report.tool0 is not None
    assert report.tool0.actual == nozzle
    assert report.bed is not None
    assert report.bed.target == bed_target
    assert report.chamber is None
    assert report.error is None  # "" means no error


@pytest.mark.parametrize("fixture", ["live_printer_offline.json", "live_printer_error.json"])
def test_printer_409_captures(fixture: str) -> None:
    captured = load(fixture)
    assert captured["status"] == 409
    assert conflict_reason(captured["body"]["error"]) == "printer_offline"


def test_version_server_connection() -> None:
    version = parse_version(load("live_version.json")["body"])
    assert version == VersionInfo(api="0.1", server="1.11.8", text="OctoPrint 1.11.8")
    assert detect_flavour(version) == "octoprint"
    conn = parse_connection(load("live_connection_operational.json")["body"])
    assert (conn.state, conn.port, conn.baudrate, conn.profile) == (
        "Operational",
        "VIRTUAL",
        115200,
        "_default",
    )
    assert "VIRTUAL" in conn.ports
    assert conn.profile_name == "Default"
    closed = parse_connection(load("live_connection_error.json")["body"])
    assert closed.state == "Closed"
    assert map_status(closed.state) is PrintStatus.OFFLINE
    assert closed.baudrate is None


def test_settings_capture_has_no_camera() -> None:
    cam = parse_webcam(load("live_settings_subset.json")["body"])
    assert cam == WebcamSettings(enabled=True, snapshot_url=None, stream_url=None)
    assert camera_info(cam, URL("http://10.0.0.5/")).kind is CameraKind.NONE


@pytest.mark.parametrize(
    ("version", "flavour"),
    [
        ({"api": "0.1", "server": "1.11.8", "text": "OctoPrint 1.11.8"}, "octoprint"),
        ({"api": "0.1", "server": "1.5.0", "text": "OctoPrint (Moonraker v0.9.3)"}, "moonraker"),
        ({"api": "2.0.0", "server": "2.1.2", "text": "PrusaLink", "hostname": "x"}, "prusalink"),
        ({"api": "2.0.0", "server": "2.1.2"}, "prusalink"),
        ({"api": "0.1", "server": "1.0", "text": "Something else"}, "unknown"),
        ({}, "unknown"),
        (["not", "an", "object"], "unknown"),
        ({"api": 1, "server": None, "text": 5}, "unknown"),
    ],
)
def test_detect_flavour(version: object, flavour: str) -> None:
    assert detect_flavour(parse_version(version)) == flavour


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/webcam/?action=snapshot", "http://10.0.0.5:5000/webcam/?action=snapshot"),
        ("webcam/?action=stream", "http://10.0.0.5:5000/webcam/?action=stream"),
        ("http://127.0.0.1:8080/?action=snapshot", "http://10.0.0.5:8080/?action=snapshot"),
        ("http://localhost/webcam/?action=snapshot", "http://10.0.0.5/webcam/?action=snapshot"),
        ("http://cam.lan:8080/snap.jpg", "http://cam.lan:8080/snap.jpg"),
        ("//cam.lan/snap.jpg", "http://cam.lan/snap.jpg"),
        ("rtsp://cam.lan/stream", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_resolve_url(url: str | None, expected: str | None) -> None:
    assert resolve_url(url, URL("http://10.0.0.5:5000/")) == expected


def test_webcam_precedence_and_disabled() -> None:
    body = {
        "webcam": {
            "webcamEnabled": True,
            "defaultWebcam": "b",
            "snapshotUrl": "/legacy",
            "webcams": [
                {"name": "a", "compat": {"snapshot": "/a", "stream": "/a-stream"}},
                {"name": "b", "compat": {"snapshot": "/b", "stream": ""}},
            ],
        },
        "plugins": {"classicwebcam": {"snapshot": "/classic", "stream": "/classic-stream"}},
    }
    cam = parse_webcam(body)
    assert cam.snapshot_url == "/b"
    assert cam.stream_url == "/classic-stream"
    info = camera_info(cam, URL("http://h/"))
    assert info.kind is CameraKind.MJPEG
    assert info.snapshot_url == "http://h/b"
    body["webcam"]["webcamEnabled"] = False  # type: ignore[index]
    assert camera_info(parse_webcam(body), URL("http://h/")).kind is CameraKind.NONE


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"state": 5, "job": "x", "progress": []},
        {"state": "Printing", "job": {"file": "oops"}, "progress": {"completion": "abc"}},
        {"state": None, "job": {"file": {"display": 7}}, "progress": {"printTime": -5}},
        {"progress": {"completion": float("nan"), "printTimeLeft": True}},
    ],
)
def test_job_bad_shapes_never_crash(body: dict[str, Any]) -> None:
    job = parse_job(body)
    assert job.completion is None
    assert job.print_time is None
    assert job.print_time_left is None
    assert map_status(job.state) in PrintStatus


def test_job_strings_for_numbers_and_clamping() -> None:
    job = parse_job(
        {
            "state": "Printing",
            "job": {"file": {"name": "a.gcode"}},
            "progress": {"completion": "42.5", "printTime": "61", "printTimeLeft": 120.4},
        }
    )
    assert (job.completion, job.print_time, job.print_time_left) == (42.5, 61, 120)
    assert job.file_display == "a.gcode"  # older releases have no "display"
    assert parse_job({"progress": {"completion": 250}}).completion == 100.0


@pytest.mark.parametrize("body", [None, [], "Printing", 3])
def test_non_objects_are_protocol_errors(body: object) -> None:
    with pytest.raises(PrinterProtocolError):
        parse_job(body)
    with pytest.raises(PrinterProtocolError):
        parse_printer(body)


def test_printer_bad_shapes_and_chamber() -> None:
    report = parse_printer(
        {
            "state": {"text": "Printing", "flags": {"printing": "yes", "paused": False}},
            "temperature": {
                "tool0": {"actual": "210.5", "target": None},
                "bed": "hot",
                "chamber": {"actual": 35, "target": 40},
            },
        }
    )
    assert report.flags == {"paused": False}
    assert report.tool0 is not None
    assert report.tool0.actual == 210.5
    assert report.bed is None
    assert report.chamber is not None
    assert report.chamber.actual == 35.0


@pytest.mark.parametrize(
    ("text", "flags", "status"),
    [
        *((text, None, status) for text, status in STATUS_MAP.items()),
        ("Error: Printer halted. kill() called!", None, PrintStatus.ERROR),
        ("Printing from SD (serial)", None, PrintStatus.PRINTING),
        ("Brand new state", {"paused": True, "operational": True}, PrintStatus.PAUSED),
        ("Brand new state", {"operational": True}, PrintStatus.IDLE),
        ("Brand new state", {}, PrintStatus.OFFLINE),
        (None, {"error": True}, PrintStatus.ERROR),
        (None, None, PrintStatus.OFFLINE),
    ],
)
def test_map_status(text: str | None, flags: dict[str, bool] | None, status: PrintStatus) -> None:
    assert map_status(text, flags) is status


@pytest.mark.parametrize(
    ("previous", "current", "completion", "outcome"),
    [
        (PrintStatus.PRINTING, PrintStatus.IDLE, 100.0, PrintStatus.FINISHED),
        (PrintStatus.IDLE, PrintStatus.IDLE, 100.0, PrintStatus.FINISHED),
        (PrintStatus.PRINTING, PrintStatus.IDLE, None, PrintStatus.CANCELLED),
        (PrintStatus.PAUSED, PrintStatus.IDLE, 40.0, PrintStatus.CANCELLED),
        (PrintStatus.CANCELLED, PrintStatus.IDLE, None, PrintStatus.CANCELLED),
        (PrintStatus.IDLE, PrintStatus.IDLE, None, PrintStatus.IDLE),
        (PrintStatus.ERROR, PrintStatus.IDLE, None, PrintStatus.IDLE),
        (PrintStatus.FINISHED, PrintStatus.PRINTING, 3.0, PrintStatus.PRINTING),
    ],
)
def test_job_outcome(
    previous: PrintStatus, current: PrintStatus, completion: float | None, outcome: PrintStatus
) -> None:
    assert job_outcome(previous, current, completion) is outcome


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Printer is not operational", "printer_offline"),
        (
            "Printer is neither printing nor paused, 'pause' command cannot be performed",
            "not_printing",
        ),
        ("Printer does not have a heated bed", "conflict"),
        (None, "conflict"),
    ],
)
def test_conflict_reason(text: str | None, reason: str) -> None:
    assert conflict_reason(text) == reason


def test_push_current_message() -> None:
    printing = load("live_job_printing.json")["body"]
    message = {
        "state": {"text": "Printing", "flags": {"printing": True}, "error": ""},
        "job": printing["job"],
        "progress": printing["progress"],
        "temps": [
            {"time": 1, "tool0": {"actual": 100.0, "target": 200.0}},
            {"time": 2, "tool0": {"actual": 101.0, "target": 200.0}, "bed": {"actual": 50}},
        ],
    }
    current = parse_current(message)
    assert current.text == "Printing"
    assert current.job.file_display == "cube.gcode"
    assert current.tool0 is not None
    assert current.tool0.actual == 101.0
    assert current.bed is not None
    assert current.bed.target is None
    empty = parse_current({"temps": [], "state": "weird"})
    assert empty.tool0 is None
    assert empty.text is None


def test_fixture_dir_is_inside_the_project() -> None:
    assert Path(FIXTURE_DIR).is_dir()
    assert "shared" not in FIXTURE_DIR.parts
