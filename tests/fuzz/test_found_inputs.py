"""Every input that found a bug (issue 12), kept as a regression case.

Each runs through the same fuzz target that found it: it may end in a typed
error, nothing else; the good message after it must take effect; and it must
take under 100 ms (the event loop would stall as long).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import pytest
from yarl import URL

from custom_components.printfarm.printers import PrinterError, PrinterProtocolError
from custom_components.printfarm.printers.bambu import BambuClient
from custom_components.printfarm.printers.coerce import as_float, as_int, decode_json, deep_merge
from custom_components.printfarm.printers.elegoo.control import video_url
from custom_components.printfarm.printers.elegoo.parse import normalize_keys
from custom_components.printfarm.printers.octoprint.camera import resolve_url
from simulator.faults import HUGE_NUMBER

from .engine import SLOW_S
from .targets import TARGETS

HUGE = HUGE_NUMBER  # 10**400: valid JSON, no float holds it
DEEP = "[" * 5000 + "]" * 5000  # deeper than Python's recursion limit
DEEP_KEYS = '{"a":' * 5000 + "1" + "}" * 5000


def _moonraker(value: str) -> str:
    return (
        '{"jsonrpc": "2.0", "method": "notify_status_update", "params": [{"extruder": '
        f'{{"temperature": {value}, "target": 210.0}}, "heater_bed": {value}}}, 1.0]}}'
    )


def _octoprint_poll(value: str) -> str:
    return (
        f'{{"state": {{"text": "Printing", "flags": {{"printing": true}}}}, '
        f'"temperature": {{"tool0": {{"actual": {value}, "target": {value}}}}}, '
        f'"job": {{"estimatedPrintTime": {value}, "file": {{"name": "a.gcode"}}}}, '
        f'"progress": {{"completion": {value}, "printTime": {value}}}}}'
    )


def _octoprint_push(value: str) -> str:
    return (
        f'{{"current": {{"state": {{"text": "Printing", "flags": {{}}}}, "progress": '
        f'{{"completion": {value}}}, "temps": [{{"time": 1, "tool0": {{"actual": {value}}}}}]}}}}'
    )


def _prusalink(value: str) -> str:
    return (
        f'{{"printer": {{"state": "PRINTING", "temp_nozzle": {value}, "temp_bed": {value}}}, '
        f'"job": {{"id": 1, "progress": {value}, "time_remaining": {value}}}}}'
    )


def _elegoo(value: str) -> str:
    return (
        f'{{"Status": {{"CurrentStatus": [1], "TempOfNozzle": {value}, "TempOfHotbed": {value}, '
        f'"PrintInfo": {{"Status": 13, "Progress": {value}}}}}, '
        '"MainboardID": "5a3c9e0011223344556677889900aabb", "Topic": "sdcp/status/5a3c"}'
    )


def _elegoo_video(url: str) -> str:
    return json.dumps(
        {
            "Data": {"Cmd": 386, "Data": {"Ack": 0, "VideoUrl": url}, "RequestID": "a"},
            "Topic": "sdcp/response/5a3c9e0011223344556677889900aabb",
        }
    )


def _octoprint_files(path: str) -> str:
    return (
        '{"files": [{"display": "cube.gcode", "name": "cube.gcode", "origin": "local", '
        f'"path": "{path}", "type": "machinecode", "size": 10}}]}}'
    )


def _bambu(**fields: Any) -> str:
    return json.dumps({"print": {"command": "push_status", "sequence_id": "1", **fields}})


#: (target, what was found, the input).
FOUND: tuple[tuple[str, str, str], ...] = (
    ("moonraker.frame", "OverflowError", _moonraker(HUGE)),
    ("moonraker.frame", "RecursionError, 269 ms", _moonraker(DEEP)),
    ("octoprint.poll", "OverflowError", _octoprint_poll(HUGE)),
    ("octoprint.poll", "RecursionError", _octoprint_poll(DEEP)),
    ("octoprint.push", "OverflowError", _octoprint_push(HUGE)),
    ("octoprint.identity", "ValueError: thumbnail URL", '{"thumbnail": "http://[::1"}'),
    (
        "octoprint.identity",
        "ValueError: webcam URL",
        '{"webcam": {"streamUrl": "http://[::1", "snapshotUrl": "//[::1/x"}}',
    ),
    ("prusalink.status", "OverflowError", _prusalink(HUGE)),
    ("prusalink.status", "RecursionError", _prusalink(DEEP)),
    ("prusalink.challenge", "IndexError in the digest parser", "Digest realm="),
    ("prusalink.challenge", "IndexError in the digest parser", 'Digest realm="x", nonce='),
    ("elegoo.message", "OverflowError", _elegoo(HUGE)),
    ("elegoo.message", "RecursionError", _elegoo(DEEP)),
    ("elegoo.message", "RecursionError in the key normaliser", DEEP_KEYS),
    ("elegoo.discovery", "RecursionError", '{"Data": ' + DEEP + "}"),
    ("elegoo.video", "UnicodeError: non-ASCII VideoUrl", _elegoo_video("http://bücher.example/v")),
    ("elegoo.video", "ValueError: malformed VideoUrl", _elegoo_video("http://[::1:3031/video")),
    ("elegoo.video", "9.9 s on the loop", _elegoo_video("http://" + "a" * 1_000_000)),
    ("bambu.report", "frozen merge: a string temperature", _bambu(nozzle_temper="hot")),
    ("bambu.report", "frozen merge: OverflowError", _bambu(nozzle_temper=10**400)),
    ("bambu.report", "frozen merge: lights_report", _bambu(lights_report=[{"node": 1}])),
    ("bambu.report", "frozen merge: hms", _bambu(hms=[{"attr": "x", "code": None}])),
    ("bambu.report", "frozen merge: stat", _bambu(stat="not hex")),
    ("octoprint.files", "kept a C1 control in a path", _octoprint_files("\\u0097")),
    ("octoprint.files", "kept a C1 control in a path", _octoprint_files("\\ud88d\\udfbc\\u0097")),
    (
        "prusalink.files",
        "kept a lone surrogate as storage",
        '{"storage_list": [{"name": "usb", "path": "\\ud800", "available": true}]}',
    ),
    (
        "prusalink.files",
        "kept a lone surrogate in a path",
        '{"name": "usb", "type": "FOLDER", "children": '
        '[{"name": "\\ud800", "display_name": "a.gcode", "type": "PRINT_FILE"}]}',
    ),
)

_BY_NAME = {target.name: target for target in TARGETS}


@pytest.mark.parametrize(("target", "found", "text"), FOUND, ids=[f"{t}:{f}" for t, f, _ in FOUND])
def test_found_input_is_typed_fast_and_recovered(target: str, found: str, text: str) -> None:
    """The input ends in a typed error or nothing; the next good message takes effect."""
    run = _BY_NAME[target].run
    fastest = float("inf")
    for _ in range(3):  # the fastest of three: a busy CI machine must not fail it
        started = time.perf_counter()
        with contextlib.suppress(PrinterError):
            asyncio.run(run(text))
        fastest = min(fastest, time.perf_counter() - started)
    assert fastest < SLOW_S, f"{target} took {fastest * 1000:.0f} ms ({found})"


def test_numbers_that_fit_no_float_are_bad_values() -> None:
    assert as_float(10**400) is None
    assert as_float(json.loads(HUGE)) is None
    assert as_float("1e400") is None
    assert as_int(10**400) is None
    assert as_float(float("nan")) is None


def test_deep_documents_are_typed_errors_or_kept_whole() -> None:
    for depth in (5000, 100_000):  # within what the decoder takes, and past it
        with contextlib.suppress(PrinterProtocolError):
            decode_json("[" * depth + "]" * depth, "frame")
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(100_000):
        inner["a"] = inner = {}
    merged = deep_merge({"a": {"b": 1}}, nested)
    assert isinstance(merged, dict)
    assert normalize_keys(nested) is not None  # walked to its depth cap, no RecursionError


@pytest.mark.parametrize(
    "url", ["http://[::1", "//[::1/x", "http://bücher.example:8080/x", "x" * 1_000_000, "ftp://a/b"]
)
def test_octoprint_urls_that_cannot_be_used_are_none(url: str) -> None:
    resolved = resolve_url(url, URL("http://192.0.2.9/"))
    assert resolved is None or resolved.isascii()


@pytest.mark.parametrize(
    "reported",
    ["http://bücher.example/v", "http://[::1:3031/video", "http://" + "a" * 1_000_000, "\x00", 7],
)
def test_elegoo_video_url_falls_back_to_the_default(reported: object) -> None:
    started = time.perf_counter()
    assert video_url(reported, "192.0.2.40", "http://192.0.2.40:3031/video") == (
        "http://192.0.2.40:3031/video"
    )
    assert time.perf_counter() - started < SLOW_S


def test_bambu_bad_field_is_dropped_from_the_merged_report() -> None:
    """A bad value leaves the last good one in place; later reports still apply."""
    client = BambuClient("127.0.0.1", serial="01P00A000000001", access_code="12345678")
    topic = "device/01P00A000000001/report"
    client._on_message(topic, _bambu(msg=0, nozzle_temper=200.0, bed_temper=60.0).encode())
    client._on_message(topic, _bambu(nozzle_temper="hot", lights_report="on").encode())
    assert client.state.nozzle_temp == 200.0
    assert client._raw["nozzle_temper"] == 200.0
    assert "lights_report" not in client._raw
    client._on_message(topic, _bambu(bed_temper=65.0).encode())
    assert client.state.bed_temp == 65.0
    assert client.state.nozzle_temp == 200.0
