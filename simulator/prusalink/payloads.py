"""PrusaLink v1 JSON bodies built from a job snapshot, in each server's own shape.

Buddy shapes follow the captured Prusa XL messages; Prusa-Link shapes follow
what PyPI ``prusalink`` 0.8.1 builds (``storage`` is a list there, both
``status_printer`` and ``status_connect`` are always sent, the printer type is
in ``/api/version`` ``original``). Common to both: ``job`` only while a job
exists, ``axis_x``/``axis_y`` only while the head is not printing, fans in RPM.
Buddy uses 8.3 short names and ``/thumb/..`` references, Prusa-Link
``/api/thumbnails/<path>.orig.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
import re
import struct
from typing import Any
import zlib

from ..job import Phase, Snapshot

#: Simulator phase -> PrusaLink ``printer.state`` (heating is part of printing on both).
PHASE_STATE: dict[Phase, str] = {
    Phase.IDLE: "IDLE",
    Phase.HEATING: "PRINTING",
    Phase.PRINTING: "PRINTING",
    Phase.PAUSED: "PAUSED",
    Phase.FINISHED: "FINISHED",
    Phase.CANCELLED: "STOPPED",
    Phase.ERROR: "ERROR",
}

FAN_MAX_RPM = {"hotend": 7000, "print": 5000}
PI_SERVER_VERSION = "0.8.1"
#: The local storage of Prusa-Link: its name is the first element of every file path.
PI_STORAGE = "PrusaLink gcodes"


#: Files every simulated PrusaLink printer stores besides its job's.
DEMO_FILES = ("calibration_cube.gcode", "phone_stand.gcode")


@dataclass(slots=True, kw_only=True)
class Identity:
    """Fixed facts of one simulated printer."""

    variant: str  # "buddy" or "pi"
    hostname: str
    name: str
    serial: str
    model: str
    legacy_version: bool = False
    camera_id: str | None = None


def short_name(file: str) -> str:
    """A FAT 8.3 short name like Buddy shows (``3DBenchy.bgcode`` -> ``3DBENC~1.BGC``)."""
    path = PurePosixPath(file)
    stem = re.sub(r"[^A-Z0-9]", "", path.stem.upper()) or "FILE"
    ext = re.sub(r"[^A-Z0-9]", "", path.suffix.upper())[:3]
    base = stem if len(stem) <= 8 and not path.suffix[4:] else f"{stem[:6]}~1"
    return f"{base}.{ext}" if ext else base


def version(identity: Identity) -> dict[str, Any]:
    """``/api/version`` (Prusa-Link 0.8.1 names the printer type in ``original``)."""
    if identity.variant == "pi":
        data: dict[str, Any] = {
            "api": "2.0.0",
            "server": PI_SERVER_VERSION,
            "original": f"PrusaLink {identity.model}",
            "text": f"PrusaLink {PI_SERVER_VERSION}",
            "sdk": "0.8.0",
            "capabilities": {"upload-by-put": True},
            "hostname": identity.hostname,
        }
        if not identity.legacy_version:
            data["firmware"] = "3.14.1-8237"
        return data
    data = {
        "api": "2.0.0",
        "server": "2.1.2",
        "nozzle_diameter": 0.4,
        "text": "PrusaLink",
        "hostname": identity.hostname,
        "capabilities": {"upload-by-put": True},
    }
    if not identity.legacy_version:
        data["firmware"] = "6.5.3+12780"
        data["printer"] = identity.model
    return data


def info(identity: Identity) -> dict[str, Any]:
    """``/api/v1/info`` (Buddy: the short form; Prusa-Link: settings and Connect too)."""
    if identity.variant == "pi":
        return {
            "name": identity.name,
            "location": "print farm",
            "farm_mode": False,
            "network_error_chime": False,
            "nozzle_diameter": 0.4,
            "min_extrusion_temp": 170,
            "serial": identity.serial,
            "hostname": "connect.prusa3d.com",  # Prusa-Link reports its Connect server here
            "port": 0,
        }
    return {
        "nozzle_diameter": 0.4,
        "mmu": False,
        "serial": identity.serial,
        "hostname": identity.hostname,
        "min_extrusion_temp": 170,
    }


def legacy_printer() -> dict[str, Any]:
    """``GET /api/printer``: the part of the legacy answer that was captured (Buddy, HA core)."""
    return {"telemetry": {"material": "PLA"}}


def _storage(identity: Identity) -> Any:
    if identity.variant == "buddy":
        return {"path": "/usb/", "name": "usb", "read_only": False}
    return [
        {"path": "/local", "read_only": False, "free_space": 12_884_901_888, "name": PI_STORAGE},
        {"path": "/sdcard", "read_only": True, "name": "SD Card"},
    ]


def job_state(snap: Snapshot, attention: str | None) -> str:
    """``printer.state`` for a snapshot (``ATTENTION`` while a paused job waits for a human)."""
    if attention is not None and snap.phase is Phase.PAUSED:
        return "ATTENTION"
    return PHASE_STATE[snap.phase]


def has_job(snap: Snapshot) -> bool:
    """Whether the printer reports a job (none when idle)."""
    return snap.phase is not Phase.IDLE and snap.file is not None


def status(
    identity: Identity, snap: Snapshot, job_id: int, attention: str | None
) -> dict[str, Any]:
    """``/api/v1/status``."""
    state = job_state(snap, attention)
    printer: dict[str, Any] = {
        "state": state,
        "temp_nozzle": snap.nozzle_temp,
        "target_nozzle": snap.nozzle_target,
        "temp_bed": snap.bed_temp,
        "target_bed": snap.bed_target,
        "axis_z": round(0.2 * snap.layer, 2),
        "flow": 100,
        "speed": snap.speed_factor,
        "fan_hotend": FAN_MAX_RPM["hotend"] if snap.nozzle_temp > 50 else 0,
        "fan_print": FAN_MAX_RPM["print"] * snap.fan // 100,
    }
    if snap.phase not in (Phase.HEATING, Phase.PRINTING):
        printer |= {"axis_x": 7.9, "axis_y": 8.4}
    message = attention if state == "ATTENTION" else snap.error if state == "ERROR" else None
    if message is not None:
        printer["status_printer"] = {"ok": False, "message": message}
    elif identity.variant == "pi":  # Prusa-Link always reports both conditions
        printer["status_printer"] = {"ok": True, "message": "OK"}
    if identity.variant == "pi":
        printer["status_connect"] = {"ok": True, "message": "Connect isn't configured"}
    data: dict[str, Any] = {"storage": _storage(identity), "printer": printer}
    if has_job(snap):
        data["job"] = _job_progress(snap, job_id)
    if identity.camera_id is not None:
        data["camera"] = {"id": identity.camera_id}
    return data


def _job_progress(snap: Snapshot, job_id: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": job_id,
        "progress": round(snap.progress * 100, 1),
        "time_printing": int(snap.elapsed_s),
    }
    if snap.phase is not Phase.HEATING:  # unknown while heating: left out, like the printer
        data["time_remaining"] = int(snap.remaining_s)
    return data


def pi_path(file: str) -> str:
    """Where Prusa-Link keeps a file: ``/<storage name>/<file>``."""
    return f"/{PI_STORAGE}/{file}"


def thumbnail_refs(identity: Identity, file: str) -> dict[str, str | None]:
    """The ``file.refs`` of a job."""
    if identity.variant == "buddy":
        sfn = short_name(file)
        return {
            "icon": f"/thumb/s/usb/{sfn}",
            "thumbnail": f"/thumb/l/usb/{sfn}",
            "download": f"/usb/{sfn}",
        }
    path = pi_path(file)
    return {
        "download": f"/api/files/local{path}/raw",
        "icon": None,
        "thumbnail": f"/api/thumbnails{path}.orig.png",
    }


def job(
    identity: Identity, snap: Snapshot, job_id: int, attention: str | None, size: int
) -> dict[str, Any]:
    """``/api/v1/job`` (only called while a job exists). Buddy shows ATTENTION as PAUSED."""
    file = snap.file or "job.gcode"
    state = job_state(snap, attention)
    refs = thumbnail_refs(identity, file)
    if identity.variant == "pi":
        return {
            "file": {
                "name": file,
                "display_name": file,
                "path": pi_path(file),
                "display_path": pi_path(file),
                "size": size,
                "m_timestamp": 1698686881,
                "refs": refs,
            },
            **_job_progress(snap, job_id),
            "state": state,
            "inaccurate_estimates": False,
        }
    return {
        **_job_progress(snap, job_id),
        "state": "PAUSED" if state == "ATTENTION" else state,
        "file": {
            "refs": refs,
            "name": short_name(file),
            "display_name": file,
            "path": "/usb",
            "size": size,
            "m_timestamp": 1698686881,
        },
    }


def tiny_png(rgb: tuple[int, int, int] = (250, 104, 0), size: int = 16) -> bytes:
    """A small solid-colour PNG (the job thumbnail), built without an image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def storage_path(identity: Identity) -> str:
    """The storage files are listed and started under: Buddy's USB stick, Prusa-Link's gcodes."""
    return "/usb" if identity.variant == "buddy" else "/local"


def storage_list(identity: Identity) -> dict[str, Any]:
    """``/api/v1/storage``: Buddy one USB stick; Prusa-Link its gcodes folder and no SD card."""
    if identity.variant == "buddy":
        usb = {
            "name": "usb",
            "type": "USB",
            "path": "/usb/",
            "read_only": False,
            "available": True,
            "free_space": 14_123_456_789,
            "total_space": 16_000_000_000,
        }
        return {"storage_list": [usb]}
    local = {
        "type": "LOCAL",
        "path": "/local",
        "available": True,
        "free_space": 82_887_024_640,
        "total_space": 270_553_174_016,
        "read_only": False,
        "name": "gcodes",
        "print_files": 0,
        "system_files": 0,
    }
    return {"storage_list": [local, {"type": "SDCARD", "path": "/sdcard", "available": False}]}


def listed_name(identity: Identity, file: str) -> str:
    """A file's ``name`` in a folder listing: the 8.3 name on Buddy, the file name on Prusa-Link."""
    return short_name(file) if identity.variant == "buddy" else file


def folder(identity: Identity, files: list[str]) -> dict[str, Any]:
    """``/api/v1/files/<storage>``: the folder and its print files (no nested children)."""
    children = [
        {
            "name": listed_name(identity, file),
            "display_name": file,
            "read_only": False,
            "type": "PRINT_FILE",
            "m_timestamp": 1698686881 + index,
            "size": 754535 + 1000 * index,
            "refs": {
                "download": f"/api/v1/files{storage_path(identity)}/{listed_name(identity, file)}"
            },
        }
        for index, file in enumerate(files)
    ]
    name = "usb" if identity.variant == "buddy" else "local"
    return {
        "name": name,
        "read_only": False,
        "type": "FOLDER",
        "m_timestamp": 1698686881,
        "children": children,
    }
