"""Moonraker payloads parsed once, at the edge, into typed values.

Klipper objects arrive as a full snapshot (subscribe/query reply) followed
by partial updates (``notify_status_update`` holds only changed fields).
:func:`merge_status` folds those into one raw object tree; :func:`state_fields`
turns that tree into ``PrinterState`` fields. Every value is type-checked
here: strings for numbers are accepted, wrong types are dropped, and nothing
raises on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Any

from ..coerce import as_dict as as_dict, as_float as as_float, as_int as as_int
from ..models import PrintStatus
from .status import KLIPPY_READY, KLIPPY_STATUS, PRINT_STATS_STATUS

_LOGGER = logging.getLogger(__name__)

#: Objects whose fields printfarm reads; ``None`` asks for every field.
BASE_SUBSCRIPTION: dict[str, list[str] | None] = {
    "webhooks": ["state", "state_message"],
    "print_stats": None,
    "virtual_sdcard": ["progress", "is_active", "file_position", "file_size", "file_path"],
    "display_status": ["progress", "message"],
    "pause_resume": ["is_paused"],
    "idle_timeout": ["state"],
    "extruder": ["temperature", "target"],
    "heater_bed": ["temperature", "target"],
    "fan": ["speed"],
    "gcode_move": ["speed_factor"],
}

_LIGHT_PREFIXES = ("output_pin", "led", "neopixel", "dotstar", "pca9533", "pca9632")
_LIGHT_WORDS = ("light", "lamp", "led")
_CHAMBER_PREFIXES = ("temperature_sensor", "heater_generic", "temperature_fan")
#: Words in a ``[fan_generic <name>]`` that say which role the fan has.
_CHAMBER_FAN_WORDS = ("chamber", "exhaust", "enclosure")
_AUX_FAN_WORDS = ("aux", "side")


# ------------------------------------------------------------------ scalars


def as_str(value: Any) -> str | None:
    """A string, or None for anything else."""
    return value if isinstance(value, str) else None


# ------------------------------------------------------------------ objects


def merge_status(objects: dict[str, dict[str, Any]], update: Any) -> bool:
    """Fold a full or partial ``status`` dict into ``objects``; True if it was usable."""
    status = as_dict(update)
    if not status:
        return False
    merged = False
    for name, fields in status.items():
        values = as_dict(fields)
        if not values and fields != {}:
            _LOGGER.debug("Ignoring Klipper object %s with non-dict value", name)
            continue
        _deep_merge(objects.setdefault(name, {}), values)
        merged = True
    return merged


def _deep_merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


@dataclass(frozen=True, slots=True)
class ObjectLayout:
    """Which optional Klipper objects this printer has (from ``printer.objects.list``)."""

    available: frozenset[str] = frozenset()
    chamber: str | None = None
    light: str | None = None
    aux_fan: str | None = None  # a ``fan_generic`` object named like an auxiliary fan
    chamber_fan: str | None = None  # a ``fan_generic`` object named like a chamber fan

    @property
    def has_fan(self) -> bool:
        """A part-cooling ``[fan]`` is configured."""
        return "fan" in self.available

    def subscription(self) -> dict[str, list[str] | None]:
        """The ``objects`` parameter for ``printer.objects.subscribe``."""
        wanted: dict[str, list[str] | None] = {
            name: fields
            for name, fields in BASE_SUBSCRIPTION.items()
            if not self.available or name in self.available
        }
        if self.chamber:
            wanted[self.chamber] = ["temperature", "target"]
        if self.light:
            wanted[self.light] = ["value", "color_data"]
        for fan in (self.aux_fan, self.chamber_fan):
            if fan:
                wanted[fan] = ["speed"]
        return wanted


def parse_object_list(result: Any) -> ObjectLayout:
    """Find the chamber sensor, a light and role fans among ``printer.objects.list`` names."""
    names = [name for name in as_list(as_dict(result).get("objects")) if isinstance(name, str)]
    chamber = None
    light = None
    aux_fan = chamber_fan = None
    for name in names:
        prefix, _, label = name.partition(" ")
        label = label.strip().lower()
        if chamber is None and prefix in _CHAMBER_PREFIXES and "chamber" in label:
            chamber = name
        if light is None and prefix in _LIGHT_PREFIXES and any(w in label for w in _LIGHT_WORDS):
            light = name
        if prefix == "fan_generic":
            if chamber_fan is None and any(w in label for w in _CHAMBER_FAN_WORDS):
                chamber_fan = name
            elif aux_fan is None and any(w in label for w in _AUX_FAN_WORDS):
                aux_fan = name
    return ObjectLayout(
        available=frozenset(names),
        chamber=chamber,
        light=light,
        aux_fan=aux_fan,
        chamber_fan=chamber_fan,
    )


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def light_is_on(fields: dict[str, Any]) -> bool | None:
    """Whether an ``output_pin`` (``value``) or LED (``color_data``) is lit."""
    value = as_float(fields.get("value"))
    if value is not None:
        return value > 0
    colors = fields.get("color_data")
    if isinstance(colors, list):
        channels = [as_float(c) for led in colors if isinstance(led, list) for c in led]
        return any(c is not None and c > 0 for c in channels)
    return None


# ------------------------------------------------------------------ replies


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """``server.info``: Moonraker's view of the Klippy host."""

    klippy_state: str
    klippy_connected: bool
    moonraker_version: str | None


def parse_server_info(result: Any) -> ServerInfo:
    """Parse ``server.info``; unknown shapes read as a disconnected Klippy."""
    data = as_dict(result)
    state = as_str(data.get("klippy_state")) or "disconnected"
    return ServerInfo(
        klippy_state=state,
        klippy_connected=data.get("klippy_connected") is True,
        moonraker_version=as_str(data.get("moonraker_version")),
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
) -> dict[str, Any]:
    """``PrinterState`` fields from the merged Klipper objects.

    Fields whose source is missing or malformed are left out, so the caller
    keeps the last good value.
    """
    stats = objects.get("print_stats", {})
    print_state = as_str(stats.get("state"))
    fields: dict[str, Any] = {}
    status = normalize_status(klippy_state, print_state)
    if status is not None:
        fields["status"] = status
    elif print_state is not None:
        _LOGGER.debug("Unknown print_stats.state %r; keeping the last status", print_state)
    ready = klippy_state == KLIPPY_READY
    fields["native_status"] = print_state if ready else klippy_state
    fields["control_available"] = ready
    fields["control_unavailable_reason"] = None if ready else f"klippy_{klippy_state}"

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

    for obj, temp_key, target_key in (
        ("extruder", "nozzle_temp", "nozzle_target"),
        ("heater_bed", "bed_temp", "bed_target"),
    ):
        heater = objects.get(obj, {})
        for source, key in (("temperature", temp_key), ("target", target_key)):
            value = as_float(heater.get(source))
            if value is not None:
                fields[key] = round(value, 2)
    if layout.chamber:
        chamber = as_float(objects.get(layout.chamber, {}).get("temperature"))
        if chamber is not None:
            fields["chamber_temp"] = round(chamber, 2)
    for fan_object, key in (
        ("fan", "fan_part_cooling"),
        (layout.aux_fan, "fan_auxiliary"),
        (layout.chamber_fan, "fan_chamber"),
    ):
        fan = as_float(objects.get(fan_object, {}).get("speed")) if fan_object else None
        if fan is not None:
            fields[key] = round(fan * 100)
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
