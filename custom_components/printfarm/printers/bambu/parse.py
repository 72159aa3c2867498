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
import logging
from typing import Any, Final

from .. import coerce
from ..models import AmsTray, PrintStatus
from .models import SPEED_PRESETS, ModelSpec, model_from_modules
from .status import CANCEL_ERRORS, normalize, stage_name

_LOGGER = logging.getLogger(__name__)

#: ``fun`` bit set when the firmware requires signed commands (authorization control).
FUN_AUTHORIZATION_REQUIRED: Final = 0x20000000
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


class _Bad:
    """Marker for a present but malformed value."""


BAD: Final = _Bad()


# ------------------------------------------------------------------ values


def as_float(value: Any) -> float | None | _Bad:
    """A number sent as a number or a numeric string; None for null, BAD for anything else."""
    if value is None:
        return None
    number = coerce.as_float(value)
    return BAD if number is None else number


def as_int(value: Any) -> int | None | _Bad:
    """An integer sent as a number or a numeric string; None for null."""
    number = as_float(value)
    if number is None or isinstance(number, _Bad):
        return number
    return round(number)


def as_str(value: Any) -> str | None | _Bad:
    """A string; None for null or empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        return BAD
    return value.strip() or None


def fan_percent(value: Any) -> int | None | _Bad:
    """A fan level 0-15 (often a string) as percent."""
    level = as_int(value)
    if level is None or isinstance(level, _Bad):
        return level
    if not 0 <= level <= 15:
        return BAD
    return round(level * 100 / 15)


def wifi_dbm(value: Any) -> int | None | _Bad:
    """``"-45dBm"`` -> -45."""
    if isinstance(value, str):
        value = value.strip().lower().removesuffix("dbm")
    return as_int(value)


def hex_color(value: Any) -> str | None:
    """``"RRGGBBAA"`` -> ``"#RRGGBB"``; None when missing or malformed."""
    if not isinstance(value, str) or len(value) not in (6, 8):
        return None
    try:
        int(value, 16)
    except ValueError:
        return None
    return f"#{value[:6].upper()}"


def unpack_temperature(value: Any) -> tuple[float, float] | None:
    """H2 packs ``target << 16 | current`` into one integer; plain numbers are current only."""
    number = as_int(value)
    if number is None or isinstance(number, _Bad) or number < 0:
        return None
    if number > 0xFFFF:
        return float(number & 0xFFFF), float(number >> 16)
    return float(number), 0.0


def hms_code(attr: int, code: int) -> str:
    """An HMS entry as Bambu's documented code, e.g. ``HMS_0300_0100_0001_0007``."""
    attr &= 0xFFFFFFFF
    code &= 0xFFFFFFFF
    return f"HMS_{attr >> 16:04X}_{attr & 0xFFFF:04X}_{code >> 16:04X}_{code & 0xFFFF:04X}"


def print_error_code(value: int) -> str:
    """``print_error`` as Bambu shows it: ``0300-400C``."""
    value &= 0xFFFFFFFF
    return f"{value >> 16:04X}-{value & 0xFFFF:04X}"


def authorization_required(fun: Any) -> bool | None:
    """Decode the ``fun`` hex string; None when absent or malformed."""
    if not isinstance(fun, str) or not fun.strip():
        return None
    try:
        bits = int(fun.strip(), 16)
    except ValueError:
        return None
    return bool(bits & FUN_AUTHORIZATION_REQUIRED)


# ------------------------------------------------------------------ merge


def deep_merge(base: Mapping[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated with ``delta``; nested objects merge, everything else replaces."""
    merged = dict(base)
    for key, value in delta.items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


# ------------------------------------------------------------------ report


class _Collector:
    """Gathers state fields, skipping malformed ones (logged at debug)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.out: dict[str, Any] = {}

    def take(self, field: str, key: str, convert: Callable[[Any], Any]) -> Any:
        """Convert ``raw[key]`` into ``out[field]``; returns the value (None when absent/bad)."""
        if key not in self.raw:
            self.out[field] = None
            return None
        value = convert(self.raw[key])
        if isinstance(value, _Bad):
            _LOGGER.debug("Ignoring malformed %s: %r", key, self.raw[key])
            return None
        self.out[field] = value
        return value

    def get(self, key: str, convert: Callable[[Any], Any]) -> Any:
        """A converted value without storing it; None when absent or bad."""
        value = convert(self.raw.get(key))
        return None if isinstance(value, _Bad) else value


def parse_print(raw: Mapping[str, Any], spec: ModelSpec, now: float) -> dict[str, Any]:
    """Normalized PrinterState fields from a merged ``print`` object.

    ``now`` is the current Unix time (for the elapsed time of a job).
    Keys absent from the result must keep their previous value.
    """
    c = _Collector(raw)
    gcode_state = c.get("gcode_state", as_str)
    stage = c.get("stg_cur", as_int)
    print_error = c.get("print_error", as_int) or 0
    if gcode_state is not None:
        status = normalize(gcode_state, stage, print_error)
        if status is None:
            _LOGGER.debug("Unknown gcode_state %r: keeping the last status", gcode_state)
        else:
            c.out["status"] = status
        c.out["native_status"] = gcode_state

    progress = c.take("progress", "mc_percent", as_float)
    if progress is not None:
        c.out["progress"] = min(100.0, max(0.0, progress))
    minutes = c.get("mc_remaining_time", as_int)
    if "mc_remaining_time" in raw and minutes is not None:
        c.out["remaining_s"] = max(0, minutes) * 60
    elif "mc_remaining_time" not in raw:
        c.out["remaining_s"] = None
    _elapsed(c, raw, now, c.out.get("status"))
    job = c.get("subtask_name", as_str) or _file_name(c.get("gcode_file", as_str))
    c.out["job"] = job
    c.take("layer", "layer_num", as_int)
    c.take("total_layers", "total_layer_num", as_int)

    c.take("nozzle_temp", "nozzle_temper", as_float)
    c.take("nozzle_target", "nozzle_target_temper", as_float)
    c.take("bed_temp", "bed_temper", as_float)
    c.take("bed_target", "bed_target_temper", as_float)
    _chamber(c, raw, spec)

    c.take("fan_part_cooling", "cooling_fan_speed", fan_percent)
    c.take("fan_auxiliary", "big_fan1_speed", fan_percent)
    c.take("fan_chamber", "big_fan2_speed", fan_percent)
    c.take("speed_factor", "spd_mag", as_int)
    level = c.get("spd_lvl", as_int)
    c.out["speed_preset"] = (
        SPEED_PRESETS[level - 1] if isinstance(level, int) and 1 <= level <= 4 else None
    )
    c.take("wifi_signal", "wifi_signal", wifi_dbm)
    _lights(c, raw)
    _door(c, raw, spec)
    _ams(c, raw)
    hms = _hms(c, raw)
    _error(c, print_error, hms)

    auth = authorization_required(raw.get("fun"))
    if auth is not None:
        c.out["authorization_required"] = auth

    extra: dict[str, Any] = {}
    if (name := stage_name(stage)) is not None:
        extra["stage"] = name
    if print_error:
        extra["print_error"] = print_error_code(print_error)
    if (nozzles := _extruders(raw)) is not None:
        extra["nozzles"] = nozzles
    if (print_type := c.get("print_type", as_str)) is not None:
        extra["print_type"] = print_type
    if (liveview := _liveview(raw)) is not None:
        extra["liveview"] = liveview
    c.out["extra"] = extra
    return c.out


def _file_name(path: str | None) -> str | None:
    if not path:
        return None
    return path.rsplit("/", 1)[-1] or None


def _elapsed(c: _Collector, raw: Mapping[str, Any], now: float, status: Any) -> None:
    start = c.get("gcode_start_time", as_int)
    if "gcode_start_time" in raw and start is None and raw["gcode_start_time"] is not None:
        return  # malformed: keep the last value
    if (
        not start
        or start <= 0
        or status
        not in (
            PrintStatus.PREPARING,
            PrintStatus.PRINTING,
            PrintStatus.PAUSED,
        )
    ):
        c.out["elapsed_s"] = None
        return
    c.out["elapsed_s"] = max(0, int(now) - start)


def _liveview(raw: Mapping[str, Any]) -> bool | None:
    """Whether the RTSPS stream is on (H2 firmware keeps it off until "LAN only liveview")."""
    ipcam = raw.get("ipcam")
    url = ipcam.get("rtsp_url") if isinstance(ipcam, Mapping) else None
    if url == "disable":
        return False
    if isinstance(url, str) and url.startswith("rtsps://"):
        return True
    return None


def _chamber(c: _Collector, raw: Mapping[str, Any], spec: ModelSpec) -> None:
    """Chamber temperature, only on models that have a sensor (P1/A1 report a dummy 5)."""
    if not spec.chamber_temperature:
        c.out["chamber_temp"] = None
        return
    if "chamber_temper" in raw:
        c.take("chamber_temp", "chamber_temper", as_float)
        return
    device = raw.get("device")
    ctc = device.get("ctc") if isinstance(device, Mapping) else None
    info = ctc.get("info") if isinstance(ctc, Mapping) else None
    if isinstance(info, Mapping) and (unpacked := unpack_temperature(info.get("temp"))):
        c.out["chamber_temp"] = unpacked[0]
    else:
        c.out["chamber_temp"] = None


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


def _lights(c: _Collector, raw: Mapping[str, Any]) -> None:
    lights = raw.get("lights_report")
    if lights is None:
        c.out["light_on"] = None
        return
    if not isinstance(lights, list):
        _LOGGER.debug("Ignoring malformed lights_report: %r", lights)
        return
    for light in lights:
        if isinstance(light, Mapping) and light.get("node") == "chamber_light":
            mode = light.get("mode")
            if mode in ("on", "flashing"):
                c.out["light_on"] = True
            elif mode == "off":
                c.out["light_on"] = False
            return
    c.out["light_on"] = None


def _door(c: _Collector, raw: Mapping[str, Any], spec: ModelSpec) -> None:
    if not spec.door:
        c.out["door_open"] = None
        return
    stat = raw.get("stat")
    if isinstance(stat, str):
        try:
            c.out["door_open"] = bool(int(stat, 16) & DOOR_OPEN_BIT)
        except ValueError:
            _LOGGER.debug("Ignoring malformed stat: %r", stat)
        return
    flag = c.get("home_flag", as_int)
    c.out["door_open"] = bool(flag & DOOR_OPEN_BIT) if isinstance(flag, int) else None


def _ams(c: _Collector, raw: Mapping[str, Any]) -> None:
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
    c.out["ams_trays"] = tuple(trays)


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


def _hms(c: _Collector, raw: Mapping[str, Any]) -> tuple[str, ...]:
    hms = raw.get("hms")
    if hms is None:
        c.out["hms_errors"] = ()
        return ()
    if not isinstance(hms, list):
        _LOGGER.debug("Ignoring malformed hms: %r", hms)
        return ()
    codes: list[str] = []
    for entry in hms:
        if not isinstance(entry, Mapping):
            continue
        attr, code = as_int(entry.get("attr")), as_int(entry.get("code"))
        if isinstance(attr, int) and isinstance(code, int):
            codes.append(hms_code(attr, code))
    c.out["hms_errors"] = tuple(codes)
    return tuple(codes)


def _error(c: _Collector, print_error: int, hms: tuple[str, ...]) -> None:
    status = c.out.get("status")
    if print_error and print_error not in CANCEL_ERRORS:
        c.out["error"] = f"print error {print_error_code(print_error)}"
    elif status is PrintStatus.ERROR and hms:
        c.out["error"] = hms[0]
    elif status is PrintStatus.ERROR:
        c.out["error"] = "print failed"
    else:
        c.out["error"] = None


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
