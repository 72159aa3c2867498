"""Moonraker parsing: captured replies and notifications, partial merges, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.printfarm.printers import CameraKind, PrinterAuthError, PrintStatus
from custom_components.printfarm.printers.moonraker.camera import parse_webcams, same_origin
from custom_components.printfarm.printers.moonraker.parse import (
    FileMetadata,
    ObjectLayout,
    as_float,
    merge_status,
    normalize_status,
    parse_machine_id,
    parse_metadata,
    parse_object_list,
    parse_printer_info,
    parse_server_info,
    state_fields,
)
from custom_components.printfarm.printers.moonraker.rpc import MoonrakerRpcError, _rpc_error
from custom_components.printfarm.printers.moonraker.status import PRINT_STATS_STATUS
from tests.conftest import FIXTURES

DIR = FIXTURES / "moonraker"
BASE = "http://10.0.0.7:7125/"


def load(name: str) -> Any:
    return json.loads((DIR / name).read_text())


def fields_for(status: dict[str, Any], klippy: str = "ready", **kw: Any) -> dict[str, Any]:
    objects: dict[str, dict[str, Any]] = {}
    assert merge_status(objects, status)
    return dict(
        state_fields(
            objects,
            klippy_state=klippy,
            klippy_message=kw.get("message"),
            layout=kw.get("layout", ObjectLayout()),
            metadata=kw.get("metadata"),
        )
    )


@pytest.mark.parametrize(
    ("fixture", "status", "native", "progress", "layer", "job"),
    [
        ("live_ws_subscribe_response_idle.json", PrintStatus.IDLE, "standby", None, None, None),
        (
            "live_ws_query_printing.json",
            PrintStatus.PRINTING,
            "printing",
            8.65,
            1,
            "test_print.gcode",
        ),
        ("live_ws_query_paused.json", PrintStatus.PAUSED, "paused", 9.33, 1, "test_print.gcode"),
        (
            "live_ws_query_cancelled.json",
            PrintStatus.CANCELLED,
            "cancelled",
            0.0,
            2,
            "test_print.gcode",
        ),
        (
            "live_ws_query_complete.json",
            PrintStatus.FINISHED,
            "complete",
            100.0,
            10,
            "test_print.gcode",
        ),
        ("live_http_query_print_error.json", PrintStatus.ERROR, "error", 99.76, None, "err.gcode"),
    ],
)
def test_captured_query_states(
    fixture: str,
    status: PrintStatus,
    native: str,
    progress: float | None,
    layer: int | None,
    job: str | None,
) -> None:
    fields = fields_for(load(fixture)["result"]["status"])
    assert fields["status"] is status
    assert fields["native_status"] == native
    assert fields["progress"] == progress
    assert fields.get("layer") == layer
    assert fields["job"] == job
    assert fields["control_available"] is True


def test_print_error_carries_klipper_message() -> None:
    fields = fields_for(load("live_http_query_print_error.json")["result"]["status"])
    assert fields["error"] == "Move out of range: 9999.000 9999.000 10.000 [0.000]"


def test_shutdown_is_error_with_state_message_and_no_control() -> None:
    status = load("live_http_query_shutdown.json")["result"]["status"]
    message = status["webhooks"]["state_message"]
    fields = fields_for(status, klippy="shutdown", message=message)
    assert fields["status"] is PrintStatus.ERROR
    assert fields["native_status"] == "shutdown"
    assert fields["error"].startswith("Shutdown due to webhooks request")
    assert "\n" not in fields["error"]
    assert fields["control_available"] is False
    assert fields["control_unavailable_reason"] == "control_unavailable"
    assert fields["native_status"] == "shutdown"  # says why


@pytest.mark.parametrize(
    ("klippy", "expected"),
    [
        ("ready", PrintStatus.PRINTING),
        ("shutdown", PrintStatus.ERROR),
        ("error", PrintStatus.ERROR),
        ("startup", PrintStatus.OFFLINE),
        ("disconnected", PrintStatus.OFFLINE),
        ("something-new", PrintStatus.ERROR),
    ],
)
def test_klippy_state_overrides_print_stats(klippy: str, expected: PrintStatus) -> None:
    assert normalize_status(klippy, "printing") is expected


@pytest.mark.parametrize(("native", "expected"), sorted(PRINT_STATS_STATUS.items()))
def test_print_stats_table(native: str, expected: PrintStatus) -> None:
    assert normalize_status("ready", native) is expected


def test_unknown_print_state_keeps_last_status() -> None:
    fields = fields_for({"print_stats": {"state": "levitating", "filename": "a.gcode"}})
    assert "status" not in fields
    assert fields["native_status"] == "levitating"


def test_notifications_merge_into_subscription() -> None:
    objects: dict[str, dict[str, Any]] = {}
    merge_status(objects, load("live_ws_subscribe_response_idle.json")["result"]["status"])
    seen = []
    for message in load("live_notifications_sample.json"):
        if message["method"] != "notify_status_update":
            continue
        assert merge_status(objects, message["params"][0])
        fields = state_fields(
            objects, klippy_state="ready", klippy_message=None, layout=ObjectLayout(), metadata=None
        )
        seen.append(fields["status"])
    # start -> pause -> resume -> cancel -> second start, all from deltas
    compact = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] is not s]
    assert compact == [
        PrintStatus.PRINTING,
        PrintStatus.PAUSED,
        PrintStatus.PRINTING,
        PrintStatus.CANCELLED,
        PrintStatus.PRINTING,
    ]
    # partial updates kept the fields they did not mention
    assert objects["print_stats"]["filename"] == "test_print.gcode"
    assert objects["print_stats"]["info"] == {"total_layer": 10, "current_layer": 4}
    assert objects["webhooks"]["state"] == "ready"


@pytest.mark.parametrize(
    "update",
    [None, "text", 42, [1, 2], {"print_stats": "broken"}, {"print_stats": [1]}, {1: {}}],
)
def test_malformed_updates_are_ignored(update: Any) -> None:
    objects = {"print_stats": {"state": "printing"}}
    assert not merge_status(objects, update)
    assert objects == {"print_stats": {"state": "printing"}}


def test_strings_for_numbers_and_wrong_types() -> None:
    fields = fields_for(
        {
            "print_stats": {
                "state": "printing",
                "filename": "a.gcode",
                "total_duration": "12.6",
                "print_duration": True,
                "info": {"current_layer": "3", "total_layer": "x"},
            },
            "virtual_sdcard": {"progress": "0.25"},
            "extruder": {"temperature": "nan", "target": "210"},
            "heater_bed": {"temperature": None, "target": {"bad": 1}},
            "fan": {"speed": "0.5"},
            "gcode_move": {"speed_factor": "1.25"},
        }
    )
    assert fields["progress"] == 25.0
    assert fields["elapsed_s"] == 13
    assert fields["layer"] == 3
    assert fields["total_layers"] is None
    assert "nozzle_temp" not in fields
    assert fields["nozzle_target"] == 210.0
    assert "bed_temp" not in fields
    assert "bed_target" not in fields
    assert fields["fan_part_cooling"] == 50
    assert fields["speed_factor"] == 125


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), ("2.5", 2.5), (" 3 ", 3.0), (True, None), ("inf", None), ([], None), (None, None)],
)
def test_as_float(value: Any, expected: float | None) -> None:
    assert as_float(value) == expected


def test_remaining_prefers_slicer_estimate() -> None:
    status: dict[str, dict[str, Any]] = {
        "print_stats": {"state": "printing", "filename": "a.gcode", "print_duration": 600.0},
        "virtual_sdcard": {"progress": 0.5},
    }
    meta = FileMetadata(filename="a.gcode", estimated_time=3600.0, modified=1.0, thumbnails=())
    assert fields_for(status, metadata=meta)["remaining_s"] == 3000
    assert fields_for(status)["remaining_s"] == 600
    status["print_stats"]["state"] = "complete"
    assert fields_for(status)["remaining_s"] == 0
    status["print_stats"]["state"] = "standby"
    assert fields_for(status)["remaining_s"] is None


def test_chamber_and_light_from_object_list() -> None:
    layout = parse_object_list(
        {
            "objects": [
                "webhooks",
                "fan",
                "temperature_sensor raspberry_pi",
                "temperature_sensor chamber",
                "output_pin beeper",
                "led chamber_light",
                17,
            ]
        }
    )
    assert layout.chamber == "temperature_sensor chamber"
    assert layout.light == "led chamber_light"
    assert layout.has_fan
    wanted = layout.subscription()
    assert "temperature_sensor chamber" in wanted
    assert "led chamber_light" in wanted
    assert "extruder" not in wanted  # not in the list: not asked for
    fields = fields_for(
        {
            "temperature_sensor chamber": {"temperature": 31.25},
            "led chamber_light": {"color_data": [[0.0, 0.0, 0.0, 0.4]]},
        },
        layout=layout,
    )
    assert fields["chamber_temp"] == 31.25
    assert fields["light_on"] is True


def test_no_light_or_chamber_without_matching_objects() -> None:
    layout = parse_object_list({"objects": ["output_pin beeper", "temperature_sensor mcu"]})
    assert layout.light is None
    assert layout.chamber is None
    assert parse_object_list("garbage") == ObjectLayout()


def test_server_and_printer_info() -> None:
    server = parse_server_info(load("live_ws_server_info.json")["result"])
    assert server.klippy_state == "ready"
    assert server.klippy_connected
    assert server.moonraker_version == "0.11.0"
    assert parse_server_info(None).klippy_state == "disconnected"
    info = parse_printer_info(load("live_ws_printer_info.json")["result"])
    assert info.hostname == "vm"
    assert info.software_version is None  # "?" means unknown
    shutdown = parse_printer_info(load("live_http_printer_info_shutdown.json")["result"])
    assert shutdown.state == "shutdown"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"system_info": {"machine_id": "0a1b2c"}}, "0a1b2c"),
        ({"system_info": {"cpu_info": {"serial_number": "10000000abcd"}}}, "10000000abcd"),
        (
            {
                "system_info": {
                    "cpu_info": {"serial_number": ""},
                    "instance_ids": {"moonraker": "moonraker"},
                }
            },
            None,
        ),
        ("nope", None),
    ],
)
def test_machine_id(result: Any, expected: str | None) -> None:
    assert parse_machine_id(result) == expected


def test_metadata_largest_thumbnail_relative_to_file_folder() -> None:
    meta = parse_metadata(
        load("live_http_files_metadata_prusaslicer_thumb.json")["result"], "sub/thumb_err.gcode"
    )
    assert meta.estimated_time == 3723
    thumb = meta.largest_thumbnail
    assert thumb is not None
    assert thumb.path == "sub/.thumbs/thumb_err-32x32.png"
    plain = parse_metadata(load("live_http_files_metadata.json")["result"], "test_print.gcode")
    assert plain.largest_thumbnail is None
    assert plain.estimated_time is None


def test_metadata_rejects_path_escapes_and_junk() -> None:
    meta = parse_metadata(
        {"thumbnails": [{"relative_path": "../../etc/passwd"}, "x", {"width": 3}]}, "a.gcode"
    )
    assert meta.thumbnails == ()


def test_webcams_relative_urls_resolved() -> None:
    camera = parse_webcams(load("live_ws_webcams_list.json")["result"], BASE)
    assert camera.kind is CameraKind.MJPEG
    assert camera.stream_url == "http://10.0.0.7:7125/webcam/?action=stream"
    assert camera.snapshot_url == "http://10.0.0.7:7125/webcam/?action=snapshot"


def test_webcams_absolute_disabled_and_snapshot_only() -> None:
    result = {
        "webcams": [
            {"enabled": False, "service": "mjpegstreamer", "stream_url": "/off"},
            {
                "service": "webrtc-camerastreamer",
                "stream_url": "http://10.0.0.8/webrtc",
                "snapshot_url": "http://10.0.0.8:8080/snap.jpg",
            },
        ]
    }
    camera = parse_webcams(result, BASE)
    assert camera.kind is CameraKind.SNAPSHOT
    assert camera.snapshot_url == "http://10.0.0.8:8080/snap.jpg"
    assert parse_webcams({"webcams": []}, BASE).kind is CameraKind.NONE
    assert parse_webcams({"webcams": [{"snapshot_url": "file:///x"}]}, BASE).kind is (
        CameraKind.NONE
    )


def test_same_origin() -> None:
    assert same_origin("http://10.0.0.7:7125/webcam/", BASE)
    assert not same_origin("http://10.0.0.7:8080/webcam/", BASE)
    assert not same_origin("http://10.0.0.8:7125/webcam/", BASE)


@pytest.mark.parametrize(
    ("error", "auth"),
    [
        ({"code": -32602, "message": "Unauthorized"}, True),
        ({"code": -32602, "message": "Invalid API Key"}, True),
        ({"code": 401, "message": "whatever"}, True),
        ({"code": 400, "message": "Move out of range"}, False),
        ("not a dict", False),
    ],
)
def test_rpc_error_mapping(error: Any, auth: bool) -> None:
    err = _rpc_error("printer.info", error)
    if auth:
        assert isinstance(err, PrinterAuthError)
    else:
        assert isinstance(err, MoonrakerRpcError)
        assert str(err).startswith("printer.info: ")
