"""The file-list and last-job parsers of every kind, on captured answers and hostile shapes."""

from __future__ import annotations

import json
from typing import Any

from custom_components.printfarm.printers.elegoo.parse import parse_file_list as elegoo_files
from custom_components.printfarm.printers.files import print_file
from custom_components.printfarm.printers.limits import MAX_PATH_LENGTH
from custom_components.printfarm.printers.models import PrintFile
from custom_components.printfarm.printers.moonraker.parse import (
    parse_file_list as moonraker_files,
    parse_last_job,
)
from custom_components.printfarm.printers.octoprint.parse import parse_files as octoprint_files
from custom_components.printfarm.printers.prusalink.parse import parse_folder, parse_storages
from tests.conftest import FIXTURES


def load(kind: str, name: str) -> Any:
    data = json.loads((FIXTURES / kind / name).read_text(encoding="utf-8"))
    return data["body"] if isinstance(data, dict) and "body" in data else data


def test_octoprint_captured_listing() -> None:
    assert octoprint_files(load("octoprint", "live_files.json")) == [
        PrintFile(path="cube.gcode", name="cube.gcode", size=9330, modified=1795238616.0)
    ]


def test_octoprint_walks_folders_and_skips_what_cannot_print() -> None:
    body = {
        "files": [
            {
                "type": "folder",
                "path": "a",
                "children": [
                    {"type": "machinecode", "path": "a/b.gcode", "display": "b.gcode", "size": 5},
                    {"type": "model", "path": "a/b.stl"},
                ],
            },
            {"type": "machinecode", "origin": "sdcard", "path": "sd.gco"},
            {"type": "machinecode", "path": "../../etc/passwd"},
            {"type": "machinecode", "path": "x" * (MAX_PATH_LENGTH + 1)},
            {"type": "machinecode", "path": "ok.gcode", "size": -3, "date": "soon"},
            "not an entry",
        ]
    }
    assert octoprint_files(body) == [
        PrintFile(path="ok.gcode", name="ok.gcode"),
        PrintFile(path="a/b.gcode", name="b.gcode", size=5),
    ]


def test_octoprint_nesting_is_bounded() -> None:
    deep: dict[str, Any] = {"type": "machinecode", "path": "deep.gcode"}
    for _ in range(10_000):
        deep = {"type": "folder", "children": [deep]}
    assert octoprint_files({"files": [deep]}) == []


def test_moonraker_captured_listing_and_history() -> None:
    listing = moonraker_files(load("moonraker", "live_ws_files_list.json")["result"])
    assert [(f.path, f.name, f.size) for f in listing] == [
        ("cube.gcode", "cube.gcode", 46490),
        ("plates/part.gcode", "part.gcode", 46490),
    ]
    last = parse_last_job(load("moonraker", "live_ws_history_list.json")["result"])
    assert (last.filename, last.exists) == ("test_print.gcode", True)
    assert parse_last_job({"jobs": []}).filename is None
    assert parse_last_job({"jobs": [{"filename": "a.gcode", "exists": False}]}).exists is False


def test_moonraker_listing_keeps_only_gcode() -> None:
    result = [{"path": "notes.txt"}, {"path": "p.gcode", "size": "12"}, {"filename": "old.g"}]
    assert [f.path for f in moonraker_files(result)] == ["p.gcode", "old.g"]


def test_elegoo_listing_keeps_files_under_the_storage() -> None:
    data = {
        "Ack": 0,
        "FileList": [
            {
                "name": "/local/cube.gcode",
                "usedSize": 0,
                "totalSize": 0,
                "storageType": 0,
                "type": 1,
            },
            {"name": "/local/folder", "type": 0},
            {"name": "/usb/elsewhere.gcode", "type": 1},
            {"name": 7, "type": 1},
        ],
    }
    assert elegoo_files(data, "/local") == [PrintFile(path="/local/cube.gcode", name="cube.gcode")]


def test_print_file_rejects_unsafe_paths() -> None:
    assert print_file("a\x00b.gcode") is None
    assert print_file("dir/") is None
    assert print_file("") is None
    assert print_file(["x"]) is None
    assert print_file("a/b.gcode", name="\x1b[31m") == PrintFile(path="a/b.gcode", name="b.gcode")


def test_prusalink_storages_and_folder() -> None:
    assert parse_storages(load("prusalink", "live_prusalink-0.8.1_storage.json")) == ["/local"]
    assert parse_storages(load("prusalink", "pyprusalink_storage.json")) == ["/usb"]
    folder = {
        "type": "FOLDER",
        "children": [
            {
                "name": "PHONES~1.GCO",
                "display_name": "phone_stand.gcode",
                "type": "PRINT_FILE",
                "size": 754535,
                "m_timestamp": 1698686881,
            },
            {"name": "FIRMWA~1.BBF", "type": "FIRMWARE"},
            {"name": "a/../../b.gcode", "type": "PRINT_FILE"},
            {"name": "SUB", "type": "FOLDER"},
        ],
    }
    assert parse_folder(folder, "/usb") == [
        PrintFile(
            path="/usb/PHONES~1.GCO", name="phone_stand.gcode", size=754535, modified=1698686881.0
        )
    ]
