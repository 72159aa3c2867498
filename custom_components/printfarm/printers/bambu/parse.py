"""Bambu reports -> PrinterState fields, parsed once at the edge.

The printer's ``print`` object is kept merged (P1/A1/H2 send only what
changed, X1 sends everything) and this module turns the merged object into
normalized fields. Firmware quirks are absorbed here: numbers sent as strings,
fan speeds as 0-15 strings, remaining time in minutes, Wi-Fi as "-45dBm",
colours as RRGGBBAA, H2D temperatures packed as target<<16 | current.

A field that is present but malformed is left out of the result (the caller
keeps its last good value); a field that is absent or null is None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import logging
from typing import Any, Final

from .. import coerce
from ..coerce import deep_merge
from ..models import AmsTray, PrintStatus, StateUpdate
from .models import SPEED_PRESETS, ModelSpec, model_from_modules
from .status import CANCEL_ERRORS, normalize, stage_name
from .values import (
    BAD,
    FUN_AUTHORIZATION_REQUIRED,
    _Bad,
    as_float,
    as_int,
    as_str,
    authorization_required,
    fan_percent,
    hex_color,
    hms_code,
    print_error_code,
    unpack_temperature,
    wifi_dbm,
)

__all__ = [
    "BAD",
    "FUN_AUTHORIZATION_REQUIRED",
    "as_float",
    "as_int",
    "as_str",
    "authorization_required",
    "deep_merge",
    "fan_percent",
    "hex_color",
    "hms_code",
    "print_error_code",
    "unpack_temperature",
    "wifi_dbm",
]

_LOGGER = logging.getLogger(__name__)

#: ``err_code`` of a command refused by authorization-control firmware.
ERR_AUTHORIZATION: Final = 84033543  # 0x05024007 "mqtt message verify failed"
#: A second refusal code: the message signature was malformed.
ERR_SIGNATURE: Final = 84033545  # 0x05024009
AUTHORIZATION_ERRORS: Final = frozenset({ERR_AUTHORIZATION, ERR_SIGNATURE})
CONTROL_UNAVAILABLE_REASON: Final = (
    "This firmware only accepts signed commands (authorization control). "
    "Enable LAN-only mode and Developer mode on the printer to control it from printfarm; "
    "monitoring and the light keep working."
)
#: Door-open bit in ``stat`` (H2 firmware) and ``home_flag`` (X1 and older H2 firmware).
DOOR_OPEN_BIT: Final = 0x00800000
#: ``ams.tray_now`` / ``tray_id`` meaning "no tray" and "external spool".
_NO_TRAY = 255
_EXTERNAL_TRAY = 254
#: Unit number printfarm gives the external spool (``vt_tray``).
EXTERNAL_UNIT: Final = 255


#: The keys of the ``print`` object printfarm reads: nothing else is kept in the merged report.
KNOWN_KEYS: Final = frozenset(
    {
        "gcode_state", "stg_cur", "print_error", "mc_percent", "mc_remaining_time",
        "gcode_start_time", "subtask_name", "gcode_file", "layer_num", "total_layer_num",
        "nozzle_temper", "nozzle_target_temper", "bed_temper", "bed_target_temper",
        "chamber_temper", "device", "cooling_fan_speed", "big_fan1_speed", "big_fan2_speed",
        "spd_mag", "spd_lvl", "wifi_signal", "lights_report", "stat", "home_flag", "ams",
        "vt_tray", "hms", "fun", "print_type", "ipcam",
    }
)  # fmt: skip


class _Keep:
    """A present but malformed value: the state keeps what it had."""


KEEP: Final = _Keep()


class _Reader:
    """Reads converted values from the merged report and remembers the malformed keys."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.bad: set[str] = set()

    def value[T](self, key: str, convert: Callable[[Any], T | _Bad]) -> T | None | _Keep:
        """The converted value; None when absent, KEEP (and the key noted) when malformed."""
        if key not in self.raw:
            return None
        value = convert(self.raw[key])
        if isinstance(value, _Bad):
            _LOGGER.debug("Ignoring malformed %s: %s", key, coerce.brief(self.raw[key]))
            self.bad.add(key)
            return KEEP
        return value

    def get[T](self, key: str, convert: Callable[[Any], T | _Bad]) -> T | None:
        """The converted value, None when absent or malformed."""
        value = self.value(key, convert)
        return None if isinstance(value, _Keep) else value


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """What a merged report says: state fields, diagnostics-only facts, and bad keys."""

    update: StateUpdate
    details: dict[str, Any]
    authorization_required: bool | None
    bad: frozenset[str]


def parse_print(raw: Mapping[str, Any], spec: ModelSpec, now: float) -> ParsedReport:
    """Normalized PrinterState fields from a merged ``print`` object.

    ``now`` is the current Unix time (for the elapsed time of a job). Fields
    absent from the update keep their previous value; ``bad`` names the keys
    whose value could not be used (the caller drops them from its merge).
    """
    r = _Reader(raw)
    u: StateUpdate = {}
    gcode_state = r.get("gcode_state", as_str)
    stage = r.get("stg_cur", as_int)
    print_error = r.get("print_error", as_int) or 0
    if gcode_state is not None:
        status = normalize(gcode_state, stage, print_error)
        if status is None:
            _LOGGER.debug(
                "Unknown gcode_state %s: keeping the last status", coerce.brief(gcode_state)
            )
        else:
            u["status"] = status
        u["native_status"] = gcode_state

    if not isinstance(progress := r.value("mc_percent", as_float), _Keep):
        u["progress"] = None if progress is None else min(100.0, max(0.0, progress))
    if not isinstance(minutes := r.value("mc_remaining_time", as_int), _Keep):
        u["remaining_s"] = None if minutes is None else max(0, minutes) * 60
    if not isinstance(elapsed := _elapsed(r, now, u.get("status")), _Keep):
        u["elapsed_s"] = elapsed
    u["job"] = r.get("subtask_name", as_str) or _file_name(r.get("gcode_file", as_str))
    if not isinstance(layer := r.value("layer_num", as_int), _Keep):
        u["layer"] = layer
    if not isinstance(total := r.value("total_layer_num", as_int), _Keep):
        u["total_layers"] = total

    if not isinstance(nozzle := r.value("nozzle_temper", as_float), _Keep):
        u["nozzle_temp"] = nozzle
    if not isinstance(nozzle_target := r.value("nozzle_target_temper", as_float), _Keep):
        u["nozzle_target"] = nozzle_target
    if not isinstance(bed := r.value("bed_temper", as_float), _Keep):
        u["bed_temp"] = bed
    if not isinstance(bed_target := r.value("bed_target_temper", as_float), _Keep):
        u["bed_target"] = bed_target
    if not isinstance(chamber := _chamber(r, spec), _Keep):
        u["chamber_temp"] = chamber

    if not isinstance(part := r.value("cooling_fan_speed", fan_percent), _Keep):
        u["fan_part_cooling"] = part
    if not isinstance(aux := r.value("big_fan1_speed", fan_percent), _Keep):
        u["fan_auxiliary"] = aux
    if not isinstance(box := r.value("big_fan2_speed", fan_percent), _Keep):
        u["fan_chamber"] = box
    if not isinstance(speed := r.value("spd_mag", as_int), _Keep):
        u["speed_factor"] = speed
    level = r.get("spd_lvl", as_int)
    u["speed_preset"] = SPEED_PRESETS[level - 1] if level is not None and 1 <= level <= 4 else None
    if not isinstance(wifi := r.value("wifi_signal", wifi_dbm), _Keep):
        u["wifi_signal"] = wifi
    if not isinstance(light := _light(r), _Keep):
        u["light_on"] = light
    if not isinstance(door := _door(r, spec), _Keep):
        u["door_open"] = door
    u["ams_trays"] = _ams(raw)
    hms = _hms(r)
    if not isinstance(hms, _Keep):
        u["hms_errors"] = hms
    u["error"] = _error(u.get("status"), print_error, () if isinstance(hms, _Keep) else hms)

    details: dict[str, Any] = {}
    if (name := stage_name(stage)) is not None:
        details["stage"] = name
    if print_error:
        details["print_error"] = print_error_code(print_error)
    if (nozzles := _extruders(raw)) is not None:
        details["nozzles"] = nozzles
    if (print_type := r.get("print_type", as_str)) is not None:
        details["print_type"] = print_type
    if (liveview := _liveview(raw)) is not None:
        details["liveview"] = liveview
    return ParsedReport(
        update=u,
        details=details,
        authorization_required=authorization_required(raw.get("fun")),
        bad=frozenset(r.bad),
    )


def _file_name(path: str | None) -> str | None:
    if not path:
        return None
    return path.rsplit("/", 1)[-1] or None


def _elapsed(r: _Reader, now: float, status: PrintStatus | None) -> int | None | _Keep:
    start = r.value("gcode_start_time", as_int)
    if isinstance(start, _Keep):
        return KEEP
    running = (PrintStatus.PREPARING, PrintStatus.PRINTING, PrintStatus.PAUSED)
    if not start or start <= 0 or status not in running:
        return None
    return max(0, int(now) - start)


def _liveview(raw: Mapping[str, Any]) -> bool | None:
    """Whether the RTSPS stream is on (H2 firmware keeps it off until "LAN only liveview")."""
    ipcam = raw.get("ipcam")
    url = ipcam.get("rtsp_url") if isinstance(ipcam, Mapping) else None
    if url == "disable":
        return False
    if isinstance(url, str) and url.startswith("rtsps://"):
        return True
    return None


def _chamber(r: _Reader, spec: ModelSpec) -> float | None | _Keep:
    """Chamber temperature, only on models that have a sensor (P1/A1 report a dummy 5)."""
    if not spec.chamber_temperature:
        return None
    if "chamber_temper" in r.raw:
        temperature = r.value("chamber_temper", as_float)  # typed by the converter
        return temperature  # noqa: RET504
    device = r.raw.get("device")
    ctc = device.get("ctc") if isinstance(device, Mapping) else None
    info = ctc.get("info") if isinstance(ctc, Mapping) else None
    if isinstance(info, Mapping) and (unpacked := unpack_temperature(info.get("temp"))):
        return unpacked[0]
    return None


def _extruders(raw: Mapping[str, Any]) -> list[dict[str, float | int]] | None:
    """Per-extruder temperatures of two-nozzle printers (H2D), from ``device.extruder``."""
    device = raw.get("device")
    extruder = device.get("extruder") if isinstance(device, Mapping) else None
    infos = extruder.get("info") if isinstance(extruder, Mapping) else None
    if not isinstance(infos, list):
        return None
    nozzles: list[dict[str, float | int]] = []
    for info in infos:
        if not isinstance(info, Mapping):
            continue
        ident = as_int(info.get("id"))
        temps = unpack_temperature(info.get("temp"))
        if not isinstance(ident, int) or temps is None:
            continue
        nozzles.append({"id": ident, "temp": temps[0], "target": temps[1]})
    return nozzles or None


def _light(r: _Reader) -> bool | None | _Keep:
    lights = r.raw.get("lights_report")
    if lights is None:
        return None
    if not isinstance(lights, list):
        _LOGGER.debug("Ignoring malformed lights_report: %s", coerce.brief(lights))
        r.bad.add("lights_report")
        return KEEP
    for light in lights:
        if isinstance(light, Mapping) and light.get("node") == "chamber_light":
            mode = light.get("mode")
            if mode in ("on", "flashing"):
                return True
            if mode == "off":
                return False
            return KEEP
    return None


def _door(r: _Reader, spec: ModelSpec) -> bool | None | _Keep:
    if not spec.door:
        return None
    stat = r.raw.get("stat")
    if isinstance(stat, str):
        try:
            return bool(int(stat[:16], 16) & DOOR_OPEN_BIT)
        except ValueError:
            _LOGGER.debug("Ignoring malformed stat: %s", coerce.brief(stat))
            r.bad.add("stat")
            return KEEP
    flag = r.get("home_flag", as_int)
    return bool(flag & DOOR_OPEN_BIT) if flag is not None else None


def _ams(raw: Mapping[str, Any]) -> tuple[AmsTray, ...]:
    ams = raw.get("ams")
    trays: list[AmsTray] = []
    active: tuple[int, int] | None = None
    if isinstance(ams, Mapping):
        now = as_int(ams.get("tray_now"))
        if isinstance(now, int) and now not in (_NO_TRAY, _EXTERNAL_TRAY):
            active = (now // 4, now % 4) if now < 128 else (now, 0)
        elif now == _EXTERNAL_TRAY:
            active = (EXTERNAL_UNIT, 0)
        units = ams.get("ams")
        for unit in units if isinstance(units, list) else ():
            unit_id = as_int(unit.get("id")) if isinstance(unit, Mapping) else BAD
            if not isinstance(unit_id, int) or not isinstance(unit, Mapping):
                continue
            slots = unit.get("tray")
            parsed = (_tray(unit_id, t, active) for t in (slots if isinstance(slots, list) else ()))
            trays.extend(t for t in parsed if t is not None)
    external = raw.get("vt_tray")
    if isinstance(external, Mapping) and as_str(external.get("tray_type")):
        tray = _tray(EXTERNAL_UNIT, {**external, "id": "0"}, active)
        if tray is not None:
            trays.append(tray)
    return tuple(trays)


def _tray(unit: int, tray: Any, active: tuple[int, int] | None) -> AmsTray | None:
    if not isinstance(tray, Mapping):
        return None
    slot = as_int(tray.get("id"))
    if not isinstance(slot, int):
        return None
    material = as_str(tray.get("tray_type"))
    remain = as_int(tray.get("remain"))
    return AmsTray(
        unit=unit,
        slot=slot,
        material=material if isinstance(material, str) else None,
        color=hex_color(tray.get("tray_color")),
        remaining=remain if isinstance(remain, int) and 0 <= remain <= 100 else None,
        active=active == (unit, slot),
    )


def _hms(r: _Reader) -> tuple[str, ...] | _Keep:
    hms = r.raw.get("hms")
    if hms is None:
        return ()
    if not isinstance(hms, list):
        _LOGGER.debug("Ignoring malformed hms: %s", coerce.brief(hms))
        r.bad.add("hms")
        return KEEP
    codes: list[str] = []
    for entry in hms:
        if not isinstance(entry, Mapping):
            continue
        attr, code = as_int(entry.get("attr")), as_int(entry.get("code"))
        if isinstance(attr, int) and isinstance(code, int):
            codes.append(hms_code(attr, code))
    return tuple(codes)


def _error(status: PrintStatus | None, print_error: int, hms: tuple[str, ...]) -> str | None:
    if print_error and print_error not in CANCEL_ERRORS:
        return f"print error {print_error_code(print_error)}"
    if status is PrintStatus.ERROR:
        return hms[0] if hms else "print failed"
    return None


# ----------------------------------------------------------------- version


def parse_version(info: Mapping[str, Any]) -> tuple[str | None, ModelSpec | None]:
    """(firmware version, model) from a ``get_version`` reply's ``info`` object."""
    modules = info.get("module")
    if not isinstance(modules, list):
        return None, None
    good = [m for m in modules if isinstance(m, Mapping)]
    firmware = None
    for module in good:
        if module.get("name") == "ota":
            version = as_str(module.get("sw_ver"))
            firmware = version if isinstance(version, str) else None
    return firmware, model_from_modules(good)
