"""PrusaLink parsers over the captured message shapes, the status table, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.printfarm.printers import PrinterProtocolError, PrintStatus
from custom_components.printfarm.printers.prusalink.parse import (
    as_bool,
    as_float,
    as_int,
    decode_object,
    parse_cameras,
    parse_info,
    parse_job,
    parse_status,
    parse_version,
)
from custom_components.printfarm.printers.prusalink.status import STATUS_MAP, map_status
from custom_components.printfarm.printers.prusalink.transport import STALE
from tests.conftest import FIXTURES

PRUSALINK = FIXTURES / "prusalink"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PRUSALINK / name).read_text())
    return data


# ------------------------------------------------------------------ fixtures


@pytest.mark.parametrize(
    ("name", "hostname", "firmware", "nozzle"),
    [
        ("ha-core_version_xl.json", "PrusaXL", None, None),
        ("pyprusalink_version_legacy_mk39.json", "prusa-mk39", None, 0.4),
    ],
)
def test_version_shapes(name: str, hostname: str, firmware: str | None, nozzle: float | None):
    version = parse_version(load(name))
    assert version.api == "2.0.0"
    assert version.server == "2.1.2"
    assert version.text == "PrusaLink"
    assert version.hostname == hostname
    assert version.firmware == firmware
    assert version.printer is None
    assert version.nozzle_diameter == nozzle


def test_version_of_newer_buddy_firmware() -> None:
    version = parse_version({"api": "2.0.0", "firmware": "6.5.3+12780", "printer": "MK4S"})
    assert version.firmware == "6.5.3+12780"
    assert version.model == "MK4S"


@pytest.mark.parametrize(
    ("original", "model"),
    [("PrusaLink MK3S", "MK3S"), ("Unknown printer type", None), ("PrusaLink ", None), (7, None)],
)
def test_prusa_link_names_the_printer_type_in_original(original: Any, model: str | None) -> None:
    version = parse_version({"api": "2.0.0", "text": "PrusaLink 0.8.1", "original": original})
    assert version.model == model


@pytest.mark.parametrize(
    ("name", "serial", "hostname", "name_field", "mmu", "camera"),
    [
        ("ha-core_info_xl.json", "serial-1337", "PrusaXL", None, False, None),
        ("pyprusalink_info_full.json", "CZPX4720X004XC34242", "prusa.lan", "MuadDib", False, False),
        ("pyprusalink_info_minimal.json", "CZPX4720X004XC34242", "prusa-mk3", None, None, None),
    ],
)
def test_info_shapes(
    name: str,
    serial: str,
    hostname: str,
    name_field: str | None,
    mmu: bool | None,
    camera: bool | None,
) -> None:
    info = parse_info(load(name))
    assert info.serial == serial
    assert info.hostname == hostname
    assert info.name == name_field
    assert info.mmu is mmu
    assert info.active_camera is camera
    assert info.nozzle_diameter == 0.4


def test_prusa_link_info_host_name_is_the_connect_server() -> None:
    """Prusa-Link 0.8.1 (run here) reports its Prusa Connect host, not its own name."""
    info = parse_info(
        {
            "name": "peer",
            "location": "loopback",
            "farm_mode": False,
            "network_error_chime": False,
            "nozzle_diameter": None,
            "min_extrusion_temp": 170,
            "serial": None,
            "hostname": "connect.prusa3d.com",
            "port": 0,
        }
    )
    assert info.hostname is None
    assert info.connect_hostname == "connect.prusa3d.com"
    assert info.serial is None
    assert info.name == "peer"


@pytest.mark.parametrize(
    ("name", "state", "job_id", "progress", "nozzle", "fan_print"),
    [
        ("ha-core_status_idle.json", "IDLE", None, None, 47.8, 75),
        ("ha-core_status_printing.json", "PRINTING", 129, 37.0, 6.0, 2500),
        ("pyprusalink_status_idle.json", "IDLE", None, None, 27.6, 0),
        ("pyprusalink_status_printing.json", "PRINTING", 42, 55.0, 214.9, 4500),
    ],
)
def test_status_shapes(
    name: str,
    state: str,
    job_id: int | None,
    progress: float | None,
    nozzle: float,
    fan_print: int,
) -> None:
    status = parse_status(load(name))
    assert status.state == state
    assert status.temp_nozzle == nozzle
    assert status.fan_print == fan_print
    assert status.speed == 100
    if job_id is None:
        assert status.job is None
    else:
        assert status.job is not None
        assert status.job.id == job_id
        assert status.job.progress == progress
        assert status.job.time_remaining is not None


@pytest.mark.parametrize(
    ("name", "job_id", "display", "thumbnail", "icon"),
    [
        (
            "ha-core_job_printing_buddy.json",
            129,
            "TabletStand3.bgcode",
            "/thumb/l/usb/TabletStand3~4.BGC",
            "/thumb/s/usb/TabletStand3~4.BGC",
        ),
        (
            "pyprusalink_job_printing_prusalink-pi.json",
            42,
            "test_print.gcode",
            "/api/thumbnails/local/test.gcode.orig.png",
            None,
        ),
    ],
)
def test_job_shapes(name: str, job_id: int, display: str, thumbnail: str, icon: str | None) -> None:
    job = parse_job(load(name))
    assert job.id == job_id
    assert job.state == "PRINTING"
    assert job.file is not None
    assert job.file.display_name == display
    assert job.file.thumbnail_ref == thumbnail
    assert job.file.icon_ref == icon
    assert job.file.size is not None


def live(name: str) -> dict[str, Any]:
    """The body of a capture from the real Prusa-Link 0.8.1."""
    body: dict[str, Any] = load(f"live_prusalink-0.8.1_{name}.json")["body"]
    return body


def test_live_prusa_link_version() -> None:
    version = parse_version(live("version"))
    assert version.server == "0.8.1"
    assert version.text == "PrusaLink 0.8.1"
    assert version.firmware is None  # null until a printer answers
    assert version.model is None  # "Unknown printer type"
    assert version.hostname == "vm"


def test_live_prusa_link_info() -> None:
    info = parse_info(live("info"))
    assert info.name == "peer"
    assert info.serial is None
    assert info.nozzle_diameter is None
    assert info.hostname is None
    assert info.connect_hostname == "connect.prusa3d.com"


def test_live_prusa_link_status_without_printer() -> None:
    status = parse_status(live("status_no_printer"))
    assert status.state == "ERROR"
    assert status.message == "Serial device does not exist"
    assert status.temp_nozzle is None
    assert status.job is None
    assert map_status(status.state, has_job=False) is PrintStatus.ERROR


def test_live_prusa_link_empty_camera_list() -> None:
    assert parse_cameras(live("cameras_none")) == ()


def test_live_prusa_link_stale_challenge_is_recognised() -> None:
    header = load("live_prusalink-0.8.1_401_stale_nonce.json")["headers"]["WWW-Authenticate"]
    assert STALE.search(header)
    first = load("live_prusalink-0.8.1_401_digest_challenge.json")["headers"]["WWW-Authenticate"]
    assert not STALE.search(first)
    assert STALE.search('Digest realm="Printer API", nonce="0a1b2c3d00001234", stale=true')
    assert not STALE.search('Digest realm="Printer API", nonce="0a1b2c3d00001234", stale=false')


def test_transfer_size_as_string_is_a_number() -> None:
    """The captured transfer sends ``size`` as a string; the coercion accepts it."""
    assert as_int(load("pyprusalink_transfer.json")["size"]) == 2393142


# ------------------------------------------------------------------ status table


@pytest.mark.parametrize(("native", "expected"), sorted(STATUS_MAP.items()))
def test_status_table_without_job(native: str, expected: PrintStatus) -> None:
    assert map_status(native, has_job=False) is expected


@pytest.mark.parametrize(
    ("native", "has_job", "expected"),
    [
        ("BUSY", True, PrintStatus.PREPARING),
        ("BUSY", False, PrintStatus.IDLE),
        ("ATTENTION", True, PrintStatus.ERROR),
        ("STOPPED", True, PrintStatus.CANCELLED),
        ("READY", False, PrintStatus.IDLE),
        ("PRINTING", True, PrintStatus.PRINTING),
    ],
)
def test_status_needing_the_job(native: str, has_job: bool, expected: PrintStatus) -> None:
    assert map_status(native, has_job=has_job) is expected


def test_unknown_state_is_not_guessed() -> None:
    assert map_status("LEVITATING", has_job=True) is None


def test_state_is_normalized_to_upper_case() -> None:
    assert parse_status({"printer": {"state": " paused "}}).state == "PAUSED"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"PRINTING"', b"null"],
)
def test_decode_refuses_what_is_not_an_object(body: bytes) -> None:
    with pytest.raises(PrinterProtocolError):
        decode_object(body, "status")


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"printer": None},
        {"printer": []},
        {"printer": {}},
        {"printer": {"state": None}},
        {"printer": {"state": ""}},
        {"printer": {"state": ["IDLE"]}},
    ],
)
def test_status_without_state_is_a_protocol_error(payload: dict[str, Any]) -> None:
    with pytest.raises(PrinterProtocolError):
        parse_status(payload)


def test_status_with_wrong_types_keeps_what_it_can() -> None:
    status = parse_status(
        {
            "printer": {
                "state": "PRINTING",
                "temp_nozzle": "214.5",
                "target_nozzle": True,
                "temp_bed": "hot",
                "target_bed": float("nan"),
                "speed": "105",
                "fan_print": -3,
                "status_printer": "broken",
            },
            "job": {"id": "129", "progress": 140, "time_remaining": -1, "time_printing": "x"},
            "storage": 7,
        }
    )
    assert status.temp_nozzle == 214.5
    assert status.target_nozzle is None
    assert status.temp_bed is None
    assert status.target_bed is None
    assert status.speed == 105
    assert status.fan_print is None
    assert status.message is None
    assert status.job is not None
    assert status.job.id == 129
    assert status.job.progress == 100.0
    assert status.job.time_remaining is None
    assert status.job.time_printing is None


def test_status_job_of_wrong_type_means_no_job() -> None:
    assert parse_status({"printer": {"state": "IDLE"}, "job": "none"}).job is None


def test_attention_message_is_read() -> None:
    status = parse_status(
        {"printer": {"state": "ATTENTION", "status_printer": {"ok": False, "message": "Runout"}}}
    )
    assert status.message == "Runout"


@pytest.mark.parametrize(
    ("status_printer", "message"),
    [
        ({"ok": True, "message": "OK"}, None),
        ({"ok": False, "message": "Serial device does not exist"}, "Serial device does not exist"),
        ({"message": "Runout"}, "Runout"),
        ({"ok": "false", "message": "Runout"}, "Runout"),
    ],
)
def test_status_printer_message_only_when_not_ok(
    status_printer: dict[str, Any], message: str | None
) -> None:
    status = parse_status({"printer": {"state": "ERROR", "status_printer": status_printer}})
    assert status.message == message


def test_job_with_missing_and_broken_fields() -> None:
    job = parse_job({"id": None, "state": 3, "file": {"refs": "nope", "name": 12}})
    assert job.id is None
    assert job.state == "3"
    assert job.file is not None
    assert job.file.name == "12"
    assert job.file.thumbnail_ref is None
    assert parse_job({"file": []}).file is None


def test_cameras_skip_junk_entries() -> None:
    cameras = parse_cameras(
        {
            "camera_list": [
                "junk",
                {"config": {"name": "no id"}},
                {"camera_id": "cam1", "config": {"name": "Pi"}, "connected": True},
                {"camera_id": "cam2", "config": None, "connected": "false"},
            ]
        }
    )
    assert [(c.camera_id, c.name, c.connected) for c in cameras] == [
        ("cam1", "Pi", True),
        ("cam2", None, False),
    ]
    assert parse_cameras({"camera_list": {"a": 1}}) == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        ("2.5", 2.5),
        (" 3 ", 3.0),
        (True, None),
        ("abc", None),
        (None, None),
        (float("inf"), None),
        ([1], None),
    ],
)
def test_as_float(value: Any, expected: float | None) -> None:
    assert as_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("false", False), (1, True), (0, False), (2, None), ("yes", None)],
)
def test_as_bool(value: Any, expected: bool | None) -> None:
    assert as_bool(value) is expected
