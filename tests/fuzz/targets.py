"""Every parser and message handler of the printer layer, as a fuzz target.

A target takes what a printer sends (text or bytes, exactly as it arrives)
and runs the real code path a message takes: decoding, parsing, merging
into the client's state. It may raise one of the package's typed errors;
anything else escaping is a bug. Stateful targets then feed a good message
and check that it took effect: one bad message must never freeze the state.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any

from custom_components.printfarm.printers.bambu import BambuClient
from custom_components.printfarm.printers.bambu.camera import check_jpeg, frame_length
from custom_components.printfarm.printers.bambu.ssdp import parse_notify
from custom_components.printfarm.printers.coerce import decode_json
from custom_components.printfarm.printers.elegoo import ElegooClient
from custom_components.printfarm.printers.elegoo.camera import extract_jpeg
from custom_components.printfarm.printers.elegoo.discovery import parse_reply
from custom_components.printfarm.printers.elegoo.parse import (
    parse_file_list as elegoo_file_list,
)
from custom_components.printfarm.printers.exceptions import PrinterError
from custom_components.printfarm.printers.limits import MAX_FILES, MAX_PATH_LENGTH
from custom_components.printfarm.printers.models import PrintFile
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from custom_components.printfarm.printers.moonraker.camera import parse_webcams
from custom_components.printfarm.printers.moonraker.parse import (
    parse_file_list,
    parse_last_job,
    parse_machine_id,
    parse_metadata,
    parse_object_list,
    parse_printer_info,
    parse_server_info,
)
from custom_components.printfarm.printers.octoprint import OctoPrintClient
from custom_components.printfarm.printers.octoprint.parse import parse_files
from custom_components.printfarm.printers.prusalink import PrusaLinkClient
from custom_components.printfarm.printers.prusalink.parse import parse_folder, parse_storages
from custom_components.printfarm.printers.prusalink.transport import PrusaLinkHttp

from . import adapters

FIXTURES = Path(__file__).parent.parent / "fixtures"

Target = Callable[[str], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class FuzzTarget:
    """One parser or handler with the captured payloads its inputs grow from."""

    name: str
    seeds: Sequence[Any]
    run: Target
    raw_bytes: bool = False  # feed the text as UTF-8 bytes (it arrives as bytes)


def _load(kind: str, name: str) -> Any:
    return json.loads((FIXTURES / kind / name).read_text(encoding="utf-8"))


def _bodies(kind: str, pattern: str) -> list[Any]:
    """The ``body`` of captured HTTP answers (or the whole file when it has none)."""
    found = []
    for path in sorted((FIXTURES / kind).glob(pattern)):
        data = json.loads(path.read_text(encoding="utf-8"))
        found.append(data["body"] if isinstance(data, dict) and "body" in data else data)
    return found


# ---------------------------------------------------------------- moonraker


def _moonraker_seeds() -> list[Any]:
    seeds: list[Any] = list(_load("moonraker", "live_notifications_sample.json")[:40])
    seeds.extend(
        _load("moonraker", name)
        for name in ("live_ws_query_printing.json", "live_ws_subscribe_response_idle.json")
    )
    return seeds


def _moonraker_reply_seeds() -> list[Any]:
    documents = (
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((FIXTURES / "moonraker").glob("*.json"))
    )
    return [data for data in documents if isinstance(data, dict)]


async def moonraker_frame(text: str) -> None:
    """A websocket frame through the RPC reader into the client's state."""
    client = MoonrakerClient("127.0.0.1")
    adapters.moonraker_dispatch(client, text)
    adapters.moonraker_dispatch(client, adapters.MOONRAKER_GOOD)
    adapters.expect(client.state.nozzle_temp == adapters.GOOD_NOZZLE, "good frame not applied")


async def moonraker_reply(text: str) -> None:
    """A JSON-RPC reply's ``result`` through every reply parser."""
    result = adapters.decode_result(text)
    parse_server_info(result)
    parse_printer_info(result)
    parse_object_list(result)
    parse_metadata(result, "dir/file.gcode")
    parse_webcams(result, "http://127.0.0.1:7125/")
    parse_machine_id(result)
    check_files(parse_file_list(result))
    last = parse_last_job(result).filename
    adapters.expect(last is None or check_path(last), f"unsafe last job {last!r}")


def check_path(path: str) -> bool:
    """A path printfarm may send back to a printer: bounded, no control characters, no ``..``."""
    return 0 < len(path) <= MAX_PATH_LENGTH and path.isprintable() and ".." not in path.split("/")


def check_files(files: list[PrintFile]) -> None:
    """A parsed file list is bounded and every path in it is safe to start."""
    adapters.expect(len(files) <= 4 * MAX_FILES, f"{len(files)} files kept")
    for file in files:
        adapters.expect(check_path(file.path), f"unsafe file path {file.path!r}")


# ---------------------------------------------------------------- octoprint


async def octoprint_poll(text: str) -> None:
    """One poll: the same body as ``/api/job`` and ``/api/printer``."""
    client = OctoPrintClient("127.0.0.1", api_key="k")
    await adapters.octoprint_poll(client, text, text, also_409=True)
    await adapters.octoprint_poll(client, adapters.OCTO_GOOD_JOB, adapters.OCTO_GOOD_PRINTER)
    adapters.expect(client.state.nozzle_temp == adapters.GOOD_NOZZLE, "good poll not applied")


async def octoprint_push(text: str) -> None:
    """A push message into the client's state."""
    client = OctoPrintClient("127.0.0.1", api_key="k")
    adapters.octoprint_push(client, text)
    adapters.octoprint_push(client, adapters.OCTO_GOOD_PUSH)
    adapters.expect(client.state.nozzle_temp == adapters.GOOD_NOZZLE, "good push not applied")


async def octoprint_settings(text: str) -> None:
    """``/api/settings``, ``/api/version``, ``/api/connection``, ``/api/files/...``."""
    client = OctoPrintClient("127.0.0.1", api_key="k")
    adapters.octoprint_identity(client, text)


async def octoprint_files(text: str) -> None:
    """``/api/files/local?recursive=true``: folders walked, every kept path safe."""
    try:
        files = parse_files(decode_json(text, "files"))
    except PrinterError:
        return
    check_files(files)


# ---------------------------------------------------------------- prusalink


async def prusalink_status(text: str) -> None:
    """``/api/v1/status`` into the client's state."""
    client = PrusaLinkClient("127.0.0.1", password="p")
    adapters.prusalink_status(client, text.encode("utf-8", "surrogatepass"))
    adapters.prusalink_status(client, adapters.PRUSA_GOOD_STATUS)
    adapters.expect(client.state.nozzle_temp == adapters.GOOD_NOZZLE, "good status not applied")


async def prusalink_documents(text: str) -> None:
    """``/api/version``, ``/api/v1/info``, ``/api/v1/job``, ``/api/v1/cameras``."""
    adapters.prusalink_documents(text.encode("utf-8", "surrogatepass"))


async def prusalink_files(text: str) -> None:
    """``/api/v1/storage`` and a folder of ``/api/v1/files``: every kept path safe."""
    try:
        document = decode_json(text, "files")
    except PrinterError:
        return
    data = document if isinstance(document, dict) else {}
    for storage in parse_storages(data):
        adapters.expect(check_path(storage), f"unsafe storage {storage!r}")
    check_files(parse_folder(data, "/usb"))


async def prusalink_challenge(text: str) -> None:
    """A ``WWW-Authenticate`` header answered by the digest flow."""
    await adapters.prusalink_challenge(PrusaLinkHttp, text)


# ---------------------------------------------------------------- elegoo


async def elegoo_message(text: str) -> None:
    """A websocket message into the client's state."""
    client = ElegooClient("127.0.0.1")
    adapters.elegoo_message(client, text)
    adapters.elegoo_message(client, adapters.ELEGOO_GOOD)
    adapters.expect(client.state.nozzle_temp == adapters.GOOD_NOZZLE, "good status not applied")


async def elegoo_files(text: str) -> None:
    """A Cmd 258 answer's ``Data``: files under the storage only, every kept path safe."""
    try:
        document = decode_json(text, "files")
    except PrinterError:
        return
    files = elegoo_file_list(document, "/local")
    check_files(files)
    adapters.expect(all(f.path.startswith("/local/") for f in files), "file outside storage")


async def elegoo_discovery(text: str) -> None:
    """A discovery reply datagram."""
    parse_reply(text.encode("utf-8", "surrogatepass"), "127.0.0.1")


async def elegoo_video(text: str) -> None:
    """The ack of Cmd 386 with its ``VideoUrl``."""
    await adapters.elegoo_video(ElegooClient("127.0.0.1"), text)


async def elegoo_mjpeg(text: str) -> None:
    """Bytes of the MJPEG stream."""
    extract_jpeg(text.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------- bambu


async def bambu_report(text: str) -> None:
    """An MQTT report into the merged state."""
    client = BambuClient("127.0.0.1", serial="01P00A000000001", access_code="12345678")
    adapters.bambu_message(client, text.encode("utf-8", "surrogatepass"))
    adapters.bambu_message(client, adapters.BAMBU_GOOD)
    adapters.expect(client.state.nozzle_temp == adapters.GOOD_NOZZLE, "good report not applied")


async def bambu_ssdp(text: str) -> None:
    """An SSDP NOTIFY datagram."""
    parse_notify(text.encode("utf-8", "surrogatepass"), "127.0.0.1")


async def bambu_frame(text: str) -> None:
    """A camera frame header and body."""
    data = text.encode("utf-8", "surrogatepass")
    frame_length(data[:16].ljust(16, b"\0"), 1 << 20)
    check_jpeg(data)


def _ssdp_seeds() -> list[Any]:
    return [
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1990\r\nLocation: 192.168.1.5\r\n"
        "NT: urn:bambulab-com:device:3dprinter:1\r\nUSN: 01P00A000000001\r\n"
        "DevModel.bambu.com: C12\r\nDevName.bambu.com: Farm 1\r\n\r\n"
    ]


#: A Buddy folder listing (shape of Prusa-Link-Web's OpenAPI ``FolderInfo``).
PRUSA_FOLDER = {
    "name": "usb",
    "read_only": False,
    "type": "FOLDER",
    "m_timestamp": 1698686881,
    "children": [
        {
            "name": "PHONES~1.GCO",
            "display_name": "phone_stand.gcode",
            "read_only": False,
            "type": "PRINT_FILE",
            "m_timestamp": 1698686881,
            "size": 754535,
            "refs": {"download": "/api/v1/files/usb/PHONES~1.GCO"},
        },
        {"name": "FOLDER", "type": "FOLDER", "read_only": False, "m_timestamp": 1},
    ],
}
#: A Cmd 258 answer's ``Data`` (SDCP v3 shape).
ELEGOO_FILES = {
    "Ack": 0,
    "FileList": [
        {"name": "/local/cube.gcode", "usedSize": 0, "totalSize": 0, "storageType": 0, "type": 1},
        {"name": "/local/parts", "usedSize": 0, "totalSize": 0, "storageType": 0, "type": 0},
    ],
}

TARGETS: tuple[FuzzTarget, ...] = (
    FuzzTarget("moonraker.frame", _moonraker_seeds(), moonraker_frame),
    FuzzTarget("moonraker.reply", _moonraker_reply_seeds(), moonraker_reply),
    FuzzTarget("octoprint.poll", _bodies("octoprint", "live_*.json"), octoprint_poll),
    FuzzTarget("octoprint.push", adapters.octoprint_push_seeds(), octoprint_push),
    FuzzTarget("octoprint.identity", _bodies("octoprint", "live_*.json"), octoprint_settings),
    FuzzTarget("octoprint.files", _bodies("octoprint", "live_files*.json"), octoprint_files),
    FuzzTarget("prusalink.status", _bodies("prusalink", "*status*.json"), prusalink_status),
    FuzzTarget("prusalink.documents", _bodies("prusalink", "*.json"), prusalink_documents),
    FuzzTarget("prusalink.challenge", adapters.challenge_seeds(), prusalink_challenge),
    FuzzTarget(
        "prusalink.files", [*_bodies("prusalink", "*storage*.json"), PRUSA_FOLDER], prusalink_files
    ),
    FuzzTarget("elegoo.message", _bodies("elegoo", "*.json"), elegoo_message),
    FuzzTarget("elegoo.files", [ELEGOO_FILES], elegoo_files),
    FuzzTarget("elegoo.discovery", [_load("elegoo", "discovery_reply.json")], elegoo_discovery),
    FuzzTarget("elegoo.video", [_load("elegoo", "response_video_enabled.json")], elegoo_video),
    FuzzTarget(
        "elegoo.mjpeg", ["--sdcpframe\r\nContent-Length: 4\r\n\r\n\xff\xd8\xff\xd9"], elegoo_mjpeg
    ),
    FuzzTarget("bambu.report", adapters.bambu_seeds(), bambu_report),
    FuzzTarget("bambu.ssdp", _ssdp_seeds(), bambu_ssdp),
    FuzzTarget(
        "bambu.frame", ["\x04\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\xff\xd8\xff\xd9"], bambu_frame
    ),
)

#: Targets whose seeds are not JSON documents: mutated as plain text.
TEXT_TARGETS = frozenset({"prusalink.challenge", "elegoo.mjpeg", "bambu.ssdp", "bambu.frame"})

__all__ = ["TARGETS", "TEXT_TARGETS", "FuzzTarget", "PrinterError"]
