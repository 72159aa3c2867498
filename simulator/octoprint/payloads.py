"""What the simulated OctoPrint answers: its payloads, shaped like OctoPrint 1.11.8's."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from aiohttp import web

from ..base import SimOptions
from ..job import Phase, PrintJob, Snapshot

VERSION = "1.11.8"
NOT_OPERATIONAL = "Printer is not operational"
FORBIDDEN = (
    "You don't have the permission to access the requested resource. "
    "It is either read-protected or not readable by the server."
)
MAXTEMP = "MAXTEMP triggered! - Not SD printing"
_NOT_ACTIVE = "Printer is neither printing nor paused, '{}' command cannot be performed"

_STATE_TEXT: dict[Phase, str] = {
    Phase.IDLE: "Operational",
    Phase.HEATING: "Printing",  # the virtual printer heats inside the job (M190/M109)
    Phase.PRINTING: "Printing",
    Phase.PAUSED: "Paused",
    Phase.FINISHED: "Operational",
    Phase.CANCELLED: "Operational",
    Phase.ERROR: "Offline after error",
}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _error(status: int, text: str) -> web.Response:
    return _json({"error": text}, status)


class Payloads:
    """Builds OctoPrint's bodies from the shared print job."""

    job: PrintJob
    options: SimOptions
    printer_connected: bool
    admin: str
    name: str
    port: int
    thumbnails: bool
    stored: dict[str, int]
    folders: set[str]
    sizes: dict[str, int]
    snapshot_url: str | None
    stream_url: str | None

    def _flags(self, snap: Snapshot) -> dict[str, bool]:
        connected = self.printer_connected
        printing = connected and snap.phase in (Phase.HEATING, Phase.PRINTING)
        paused = connected and snap.phase is Phase.PAUSED
        return {
            "cancelling": False,
            "closedOrError": not connected,
            "error": snap.phase is Phase.ERROR,
            "finishing": False,
            "operational": connected,
            "paused": paused,
            "pausing": False,
            "printing": printing,
            "ready": connected and not printing and not paused,
            "resuming": False,
            "sdReady": connected,
        }

    def _state_text(self, snap: Snapshot) -> str:
        if not self.printer_connected:
            return "Offline after error" if snap.phase is Phase.ERROR else "Offline"
        return _STATE_TEXT[snap.phase]

    def _job_payload(self, snap: Snapshot) -> dict[str, Any]:
        connected = self.printer_connected
        name = snap.file if connected else None
        size = 9330 if name else None
        completion: float | None = None
        print_time: int | None = None
        left: int | None = None
        filepos: int | None = None
        if connected and snap.phase in (Phase.HEATING, Phase.PRINTING, Phase.PAUSED):
            completion = snap.progress * 100.0
            print_time = int(snap.elapsed_s)
            left = int(snap.remaining_s)
            filepos = int((size or 0) * snap.progress)
        elif connected and snap.phase is Phase.FINISHED:
            completion, print_time, left, filepos = 100.0, 0, 0, size
        progress = {
            "completion": completion,
            "filepos": filepos,
            "printTime": print_time,
            "printTimeLeft": left,
            "printTimeLeftOrigin": "linear" if left is not None else None,
        }
        if name is None and snap.phase is not Phase.ERROR:
            # nothing selected: OctoPrint sends a shorter job block (no display, filament dict)
            job: dict[str, Any] = {
                "estimatedPrintTime": None,
                "filament": {"length": None, "volume": None},
                "file": dict.fromkeys(("date", "name", "origin", "path", "size")),
                "lastPrintTime": None,
                "user": None,
            }
            return {"job": job, "progress": progress}
        job = {
            "averagePrintTime": None,
            "estimatedPrintTime": None,
            "filament": None,
            "file": {
                "date": 1795238616 if name else None,
                "display": name.rsplit("/", 1)[-1] if name else None,
                "name": name.rsplit("/", 1)[-1] if name else None,
                "origin": "local" if name else None,
                "path": name,
                "size": size,
            },
            "lastPrintTime": None,
            "user": self.admin if name else None,
        }
        return {"job": job, "progress": progress}

    def _heaters(self, snap: Snapshot) -> dict[str, Any]:
        return {
            "bed": {"actual": snap.bed_temp, "offset": 0, "target": snap.bed_target},
            "tool0": {"actual": snap.nozzle_temp, "offset": 0, "target": snap.nozzle_target},
        }

    def _current(self) -> dict[str, Any]:
        snap = self.job.tick()
        payload = self._job_payload(snap)
        now = time.time()
        payload.update(
            {
                "state": {
                    "text": self._state_text(snap),
                    "flags": self._flags(snap),
                    "error": snap.error or "",
                },
                "currentZ": None,
                "offsets": {},
                "temps": [{"time": int(now), **self._heaters(snap)}]
                if self.printer_connected
                else [],
                "logs": [],
                "messages": [],
                "busyFiles": [],
                "serverTime": now,
            }
        )
        return payload

    def _file_entry(self, name: str) -> dict[str, Any]:
        base = f"http://{self.options.host}:{self.port}"
        extra: dict[str, Any] = {}
        if self.thumbnails:
            # the shape the PrusaSlicer-thumbnails plugin adds: relative, with a cache buster
            extra["thumbnail"] = f"plugin/prusaslicerthumbnails/thumbnail/{name}.jpg?1795238616"
            extra["thumbnail_src"] = "prusaslicerthumbnails"
        return extra | {
            "date": self.stored.get(name, 1795238616),
            "display": name.rsplit("/", 1)[-1],
            "hash": hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest(),
            "name": name.rsplit("/", 1)[-1],
            "origin": "local",
            "path": name,
            "refs": {
                "download": f"{base}/downloads/files/local/{name}",
                "resource": f"{base}/api/files/local/{name}",
            },
            "size": self.sizes.get(name, 9330),
            "type": "machinecode",
            "typePath": ["machinecode", "gcode"],
            "user": self.admin,
        }

    def _file_tree(self, recursive: bool) -> list[dict[str, Any]]:
        """``files`` of ``/api/files/local``: top-level entries, folders with ``children``."""
        base = f"http://{self.options.host}:{self.port}"

        def folder(path: str) -> dict[str, Any]:
            entry: dict[str, Any] = {
                "display": path.rsplit("/", 1)[-1],
                "name": path.rsplit("/", 1)[-1],
                "origin": "local",
                "path": path,
                "refs": {"resource": f"{base}/api/files/local/{path}"},
                "type": "folder",
                "typePath": ["folder"],
            }
            if recursive:
                entry["children"] = listing(path + "/")
            return entry

        def listing(prefix: str) -> list[dict[str, Any]]:
            def here(path: str) -> bool:
                return path.startswith(prefix) and "/" not in path[len(prefix) :]

            folders = [folder(sub) for sub in sorted(self.folders) if here(sub)]
            return folders + [self._file_entry(name) for name in self.stored if here(name)]

        return listing("")

    def _settings_body(self) -> dict[str, Any]:
        # the snapshot URL points at the host's own loopback, the stream URL is relative:
        # both shapes real installs have (OctoPi default / proxied mjpg-streamer)
        snapshot = self.snapshot_url
        if snapshot is None:
            snapshot = f"http://127.0.0.1:{self.port}/webcam/?action=snapshot"
        stream = "/webcam/?action=stream" if self.stream_url is None else self.stream_url
        compat = {"snapshot": snapshot, "stream": stream, "snapshotTimeout": 5}
        return {
            "api": {"allowCrossOrigin": False},
            "appearance": {"name": self.name, "color": "default"},
            "feature": {"sdSupport": True},
            "webcam": {
                "webcamEnabled": True,
                "defaultWebcam": "classic",
                "snapshotWebcam": "classic",
                "snapshotUrl": snapshot,
                "streamUrl": stream,
                "webcams": [
                    {
                        "name": "classic",
                        "displayName": "Classic Webcam",
                        "provider": "classicwebcam",
                        "canSnapshot": True,
                        "compat": compat,
                    }
                ],
            },
            "plugins": {"classicwebcam": {"snapshot": snapshot, "stream": stream}},
        }
