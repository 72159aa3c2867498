"""Klipper objects, merged typed: only the fields printfarm reads, only values that fit.

Klipper objects arrive as a full snapshot (subscribe/query reply) followed
by partial updates (``notify_status_update`` holds only changed fields).
:func:`merge_status` folds them into one tree, converting each field it
knows as it goes: a field whose value does not fit is dropped (the last good
value stays), a field printfarm does not read is not kept at all. So the
tree never holds a bad value that could break a later parse, and a printer
cannot grow it with junk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging
from typing import Any, Final

from ..coerce import as_dict, as_float, as_int, as_list, brief

_LOGGER = logging.getLogger(__name__)


class _Unusable:
    """A value that does not fit its field."""


UNUSABLE: Final = _Unusable()

type Converter = Callable[[Any], Any]


def _number(value: Any) -> float | _Unusable:
    number = as_float(value)
    return UNUSABLE if number is None else number


def _text(value: Any) -> str | None | _Unusable:
    return value if value is None or isinstance(value, str) else UNUSABLE


def _flag(value: Any) -> bool | _Unusable:
    return value if isinstance(value, bool) else UNUSABLE


def _layers(value: Any) -> dict[str, int | None] | _Unusable:
    if value is None:
        return {}
    info = as_dict(value)
    if not info and value != {}:
        return UNUSABLE
    return {key: as_int(info.get(key)) for key in ("current_layer", "total_layer") if key in info}


def _colors(value: Any) -> list[list[float]] | _Unusable:
    if not isinstance(value, list):
        return UNUSABLE
    leds = [[as_float(c) or 0.0 for c in as_list(led)[:4]] for led in value[:64]]
    return [led for led in leds if led]


_HEATER: Final[dict[str, Converter]] = {"temperature": _number, "target": _number}

#: The fields read from each object, with the converter each value goes through.
SCHEMA: Final[dict[str, dict[str, Converter]]] = {
    "webhooks": {"state": _text, "state_message": _text},
    "print_stats": {
        "state": _text,
        "filename": _text,
        "message": _text,
        "print_duration": _number,
        "total_duration": _number,
        "filament_used": _number,
        "info": _layers,
    },
    "virtual_sdcard": {
        "progress": _number,
        "is_active": _flag,
        "file_position": _number,
        "file_size": _number,
        "file_path": _text,
    },
    "display_status": {"progress": _number, "message": _text},
    "pause_resume": {"is_paused": _flag},
    "idle_timeout": {"state": _text},
    "extruder": _HEATER,
    "heater_bed": _HEATER,
    "fan": {"speed": _number},
    "gcode_move": {"speed_factor": _number},
}

#: Fields of optional objects, by the prefix of their name.
PREFIX_SCHEMA: Final[dict[str, dict[str, Converter]]] = {
    "temperature_sensor": _HEATER,
    "heater_generic": _HEATER,
    "temperature_fan": _HEATER,
    "fan_generic": {"speed": _number},
    **{
        prefix: {"value": _number, "color_data": _colors}
        for prefix in ("output_pin", "led", "neopixel", "dotstar", "pca9533", "pca9632")
    },
}


def schema_for(name: str) -> dict[str, Converter]:
    """The fields kept of the object called ``name`` (none for objects printfarm ignores)."""
    return SCHEMA.get(name) or PREFIX_SCHEMA.get(name.partition(" ")[0], {})


def merge_status(objects: dict[str, dict[str, Any]], update: Any) -> bool:
    """Fold a full or partial ``status`` into ``objects``; True if it was a status at all."""
    status = as_dict(update)
    if not status:
        return False
    usable = False
    for name, fields in status.items():
        values = as_dict(fields)
        if not values and fields != {}:
            _LOGGER.debug("Ignoring Klipper object %s: %s", brief(name), brief(fields))
            continue
        usable = True
        schema = schema_for(name)
        if not schema:
            continue
        target = objects.setdefault(name, {})
        for key, raw in values.items():
            convert = schema.get(key)
            if convert is None:
                continue
            value = convert(raw)
            if value is UNUSABLE:
                _LOGGER.debug("Dropping %s.%s = %s", name, key, brief(raw))
            else:
                target[key] = value
    return usable


_LIGHT_PREFIXES = ("output_pin", "led", "neopixel", "dotstar", "pca9533", "pca9632")
_LIGHT_WORDS = ("light", "lamp", "led")
_CHAMBER_PREFIXES = ("temperature_sensor", "heater_generic", "temperature_fan")
#: Words in a ``[fan_generic <name>]`` that say which role the fan has.
_CHAMBER_FAN_WORDS = ("chamber", "exhaust", "enclosure")
_AUX_FAN_WORDS = ("aux", "side")
#: Objects printfarm subscribes to; ``None`` asks for every field (the merge keeps its own).
BASE_SUBSCRIPTION: Final[dict[str, list[str] | None]] = {
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
        wanted = {
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
    chamber = light = aux_fan = chamber_fan = None
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


def light_is_on(fields: dict[str, Any]) -> bool | None:
    """Whether an ``output_pin`` (``value``) or LED (``color_data``) is lit."""
    value = fields.get("value")
    if isinstance(value, float):
        return value > 0
    colors = fields.get("color_data")
    if isinstance(colors, list):
        return any(channel > 0 for led in colors for channel in led)
    return None
