"""Moonraker replies parsed once, at the edge, into typed values; the merged objects into state.

:func:`state_fields` turns the typed object tree that ``objects.merge_status``
keeps into a ``StateUpdate``. Nothing here raises on bad input: a reply of
the wrong shape reads as "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Any

from ..coerce import as_dict, as_float, as_int, as_list, as_str
from ..exceptions import Reason
from ..files import FileCollector, print_file
from ..models import PrintFile, PrintStatus, StateUpdate
from .objects import ObjectLayout, light_is_on, merge_status, parse_object_list
from .status import KLIPPY_READY, KLIPPY_STATUS, PRINT_STATS_STATUS

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "ObjectLayout",
    "as_dict",
    "as_float",
    "as_list",
    "as_str",
    "merge_status",
    "parse_object_list",
]


# ------------------------------------------------------------------ replies


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """``server.info``: Moonraker's view of the Klippy host."""

    klippy_state: str
    klippy_connected: bool
    moonraker_version: str | None
    components: tuple[str, ...] = ()


def parse_server_info(result: Any) -> ServerInfo:
    """Parse ``server.info``; unknown shapes read as a disconnected Klippy."""
    data = as_dict(result)
    state = as_str(data.get("klippy_state")) or "disconnected"
    return ServerInfo(
        klippy_state=state,
        klippy_connected=data.get("klippy_connected") is True,
        moonraker_version=as_str(data.get("moonraker_version")),
        components=tuple(c for c in as_list(data.get("components"))[:200] if isinstance(c, str)),
    )


@dataclass(frozen=True, slots=True)
class KlippyInfo:
    """``printer.info``: the Klippy host's identity and state."""

    state: str | None
    state_message: str | None
    hostname: str | None
    software_version: str | None


def parse_printer_info(result: Any) -> KlippyInfo:
    """Parse ``printer.info``."""
    data = as_dict(result)
    version = as_str(data.get("software_version"))
    return KlippyInfo(
        state=as_str(data.get("state")),
        state_message=as_str(data.get("state_message")),
        hostname=as_str(data.get("hostname")),
        software_version=None if version in (None, "", "?") else version,
    )


def parse_machine_id(result: Any) -> str | None:
    """A stable machine identity from ``machine.system_info``, if Moonraker exposes one."""
    info = as_dict(as_dict(result).get("system_info"))
    for candidate in (
        info.get("machine_id"),
        as_dict(info.get("cpu_info")).get("serial_number"),
    ):
        text = as_str(candidate)
        if text and text.strip() and text.strip().lower() not in {"?", "unknown"}:
            return text.strip()
    return None


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """One thumbnail of a G-code file; ``path`` is relative to the gcodes root."""

    width: int
    height: int
    size: int
    path: str


@dataclass(frozen=True, slots=True)
class FileMetadata:
    """``server.files.metadata`` fields printfarm uses."""

    filename: str
    estimated_time: float | None
    modified: float | None
    thumbnails: tuple[Thumbnail, ...]

    @property
    def largest_thumbnail(self) -> Thumbnail | None:
        """The biggest thumbnail by pixel area (file size breaks ties)."""
        if not self.thumbnails:
            return None
        return max(self.thumbnails, key=lambda t: (t.width * t.height, t.size))


def parse_metadata(result: Any, filename: str) -> FileMetadata:
    """Parse ``server.files.metadata``; thumbnail paths become gcodes-root relative."""
    data = as_dict(result)
    folder = filename.rpartition("/")[0]
    thumbs = []
    for raw in as_list(data.get("thumbnails")):
        item = as_dict(raw)
        relative = as_str(item.get("relative_path")) or as_str(item.get("thumbnail_path"))
        if not relative or ".." in relative.split("/"):
            continue
        if "relative_path" in item and folder:
            relative = f"{folder}/{relative}"
        thumbs.append(
            Thumbnail(
                width=as_int(item.get("width")) or 0,
                height=as_int(item.get("height")) or 0,
                size=as_int(item.get("size")) or 0,
                path=relative,
            )
        )
    return FileMetadata(
        filename=filename,
        estimated_time=as_float(data.get("estimated_time")),
        modified=as_float(data.get("modified")),
        thumbnails=tuple(thumbs),
    )


# ------------------------------------------------------------------ state


def normalize_status(klippy_state: str, print_state: str | None) -> PrintStatus | None:
    """Status from Klippy's state and ``print_stats.state``; None when unknown."""
    if klippy_state != KLIPPY_READY:
        return KLIPPY_STATUS.get(klippy_state, PrintStatus.ERROR)
    if print_state is None:
        return None
    return PRINT_STATS_STATUS.get(print_state)


def state_fields(
    objects: dict[str, dict[str, Any]],
    *,
    klippy_state: str,
    klippy_message: str | None,
    layout: ObjectLayout,
    metadata: FileMetadata | None,
) -> StateUpdate:
    """``PrinterState`` fields from the merged Klipper objects.

    Fields whose source is missing or malformed are left out, so the caller
    keeps the last good value.
    """
    stats = objects.get("print_stats", {})
    print_state = as_str(stats.get("state"))
    fields: StateUpdate = {}
    status = normalize_status(klippy_state, print_state)
    if status is not None:
        fields["status"] = status
    elif print_state is not None:
        _LOGGER.debug("Unknown print_stats.state %r; keeping the last status", print_state)
    ready = klippy_state == KLIPPY_READY
    fields["native_status"] = print_state if ready else klippy_state
    fields["control_available"] = ready
    fields["control_unavailable_reason"] = None if ready else Reason.CONTROL_UNAVAILABLE

    filename = as_str(stats.get("filename"))
    has_job = bool(filename)
    fields["job"] = filename or None

    progress = as_float(objects.get("display_status", {}).get("progress"))
    if progress is None:
        progress = as_float(objects.get("virtual_sdcard", {}).get("progress"))
    if progress is not None:
        fields["progress"] = round(min(1.0, max(0.0, progress)) * 100, 2) if has_job else None

    print_duration = as_float(stats.get("print_duration"))
    total_duration = as_float(stats.get("total_duration"))
    if total_duration is not None:
        fields["elapsed_s"] = round(total_duration) if has_job else None
    fields["remaining_s"] = _remaining(status, progress, print_duration, metadata)

    info = as_dict(stats.get("info"))
    if "info" in stats:
        fields["layer"] = as_int(info.get("current_layer"))
        fields["total_layers"] = as_int(info.get("total_layer"))
    filament = as_float(stats.get("filament_used"))
    if filament is not None:
        fields["filament_used_mm"] = filament

    nozzle, bed = objects.get("extruder", {}), objects.get("heater_bed", {})
    if (value := _celsius(nozzle, "temperature")) is not None:
        fields["nozzle_temp"] = value
    if (value := _celsius(nozzle, "target")) is not None:
        fields["nozzle_target"] = value
    if (value := _celsius(bed, "temperature")) is not None:
        fields["bed_temp"] = value
    if (value := _celsius(bed, "target")) is not None:
        fields["bed_target"] = value
    chamber = objects.get(layout.chamber, {}) if layout.chamber else {}
    if (value := _celsius(chamber, "temperature")) is not None:
        fields["chamber_temp"] = value
    if (percent := _fan(objects, "fan")) is not None:
        fields["fan_part_cooling"] = percent
    if (percent := _fan(objects, layout.aux_fan)) is not None:
        fields["fan_auxiliary"] = percent
    if (percent := _fan(objects, layout.chamber_fan)) is not None:
        fields["fan_chamber"] = percent
    speed = as_float(objects.get("gcode_move", {}).get("speed_factor"))
    if speed is not None:
        fields["speed_factor"] = round(speed * 100)
    if layout.light:
        lit = light_is_on(objects.get(layout.light, {}))
        if lit is not None:
            fields["light_on"] = lit

    if status is PrintStatus.ERROR:
        message = as_str(stats.get("message")) if ready else klippy_message
        fields["error"] = " ".join((message or "").split()) or (
            "Klipper reported an error" if ready else f"Klippy {klippy_state}"
        )
    else:
        fields["error"] = None
    return fields


def _celsius(heater: dict[str, Any], key: str) -> float | None:
    value = as_float(heater.get(key))
    return None if value is None else round(value, 2)


def _fan(objects: dict[str, dict[str, Any]], name: str | None) -> int | None:
    speed = as_float(objects.get(name, {}).get("speed")) if name else None
    return None if speed is None else round(speed * 100)


def _remaining(
    status: PrintStatus | None,
    progress: float | None,
    print_duration: float | None,
    metadata: FileMetadata | None,
) -> int | None:
    if status is PrintStatus.FINISHED:
        return 0
    if status not in (PrintStatus.PRINTING, PrintStatus.PAUSED):
        return None
    done = print_duration or 0.0
    if metadata is not None and metadata.estimated_time:
        return max(0, round(metadata.estimated_time - done))
    if progress and progress > 0 and done > 0:
        return max(0, round(done / progress - done))
    return None


def parse_file_list(result: Any) -> list[PrintFile]:
    """Parse ``server.files.list`` of the ``gcodes`` root: G-code files only."""
    collector = FileCollector()
    for entry in as_list(result):
        item = as_dict(entry)
        path = item.get("path", item.get("filename"))
        if not isinstance(path, str) or not path.lower().endswith((".gcode", ".g", ".gco")):
            continue
        collector.add(print_file(path, None, item.get("size"), item.get("modified")))
        if collector.full:
            break
    return collector.files


@dataclass(frozen=True, slots=True)
class LastJob:
    """The newest job of ``server.history.list``."""

    filename: str | None
    exists: bool


def parse_last_job(result: Any) -> LastJob:
    """Parse ``server.history.list`` (asked newest first, limit 1)."""
    jobs = as_list(as_dict(result).get("jobs"))
    job = as_dict(jobs[0]) if jobs else {}
    file = print_file(job.get("filename"))
    return LastJob(filename=file.path if file else None, exists=job.get("exists") is not False)
