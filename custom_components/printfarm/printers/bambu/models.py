"""Bambu Lab printer models: how to recognise them and what each one can do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..models import CameraKind, Capabilities, FanKind

#: The four speed levels of ``print.print_speed`` / ``spd_lvl`` (1-4).
SPEED_PRESETS: tuple[str, ...] = ("silent", "standard", "sport", "ludicrous")
#: Part-cooling, auxiliary (``big_fan1``) and chamber (``big_fan2``) fans;
#: the A1 and A1 mini have only the first.
ALL_FANS: tuple[FanKind, ...] = (FanKind.PART_COOLING, FanKind.AUXILIARY, FanKind.CHAMBER)
PART_FAN_ONLY: tuple[FanKind, ...] = (FanKind.PART_COOLING,)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What one Bambu model reports and supports."""

    code: str  # short code used in options and the simulator: "X1C", "P1S" ...
    name: str  # marketing name
    camera: CameraKind
    chamber_temperature: bool
    door: bool
    full_reports: bool  # True: every report is the whole object (X1); False: deltas
    extruders: int = 1
    lights: tuple[str, ...] = ("chamber_light",)
    fans: tuple[FanKind, ...] = ALL_FANS


_RTSPS = CameraKind.RTSPS
_SOCKET = CameraKind.JPEG_SOCKET
_H2_LIGHTS = ("chamber_light", "chamber_light2")


def _x1(code: str, name: str) -> ModelSpec:
    """X1 family: RTSPS camera, chamber sensor, door, full reports."""
    return ModelSpec(code, name, _RTSPS, chamber_temperature=True, door=True, full_reports=True)


def _p1a1(code: str, name: str, fans: tuple[FanKind, ...] = ALL_FANS) -> ModelSpec:
    """P1/A1 families: JPEG socket camera, no chamber sensor, no door, delta reports."""
    return ModelSpec(
        code, name, _SOCKET, chamber_temperature=False, door=False, full_reports=False, fans=fans
    )


def _h2(code: str, name: str, extruders: int) -> ModelSpec:
    """H2/X2 families: RTSPS, chamber, door, two chamber lights, delta reports."""
    return ModelSpec(
        code,
        name,
        _RTSPS,
        chamber_temperature=True,
        door=True,
        full_reports=False,
        extruders=extruders,
        lights=_H2_LIGHTS,
    )


#: Every model printfarm knows, by code.
MODELS: dict[str, ModelSpec] = {
    spec.code: spec
    for spec in (
        _x1("X1", "X1"),
        _x1("X1C", "X1 Carbon"),
        _x1("X1E", "X1E"),
        _p1a1("P1P", "P1P"),
        _p1a1("P1S", "P1S"),
        _p1a1("A1", "A1", PART_FAN_ONLY),
        _p1a1("A1M", "A1 mini", PART_FAN_ONLY),
        ModelSpec("P2S", "P2S", _RTSPS, chamber_temperature=True, door=False, full_reports=False),
        _h2("H2D", "H2D", 2),
        _h2("H2DP", "H2D Pro", 2),
        _h2("H2S", "H2S", 1),
        _h2("H2C", "H2C", 2),
        _h2("X2D", "X2D", 2),
    )
}

#: Used until the model is known: assume deltas, no camera, nothing optional.
UNKNOWN_MODEL = ModelSpec(
    "unknown",
    "Bambu Lab printer",
    CameraKind.NONE,
    chamber_temperature=False,
    door=False,
    full_reports=False,
    fans=PART_FAN_ONLY,
)

#: First three characters of the serial number -> model code.
SERIAL_PREFIXES: dict[str, str] = {
    "00W": "X1",
    "00M": "X1C",
    "03W": "X1E",
    "01S": "P1P",
    "01P": "P1S",
    "039": "A1",
    "030": "A1M",
    "22E": "P2S",
    "094": "H2D",
    "239": "H2DP",
    "093": "H2S",
    "31B": "H2C",
    "20P": "X2D",
}

#: ``get_version`` module names/projects -> model code (when the serial says nothing).
_VERSION_NAMES: dict[str, str] = {
    "bambu lab x1": "X1",
    "bambu lab x1-carbon": "X1C",
    "bambu lab x1 carbon": "X1C",
    "bambu lab x1e": "X1E",
    "bambu lab p1p": "P1P",
    "bambu lab p1s": "P1S",
    "bambu lab a1": "A1",
    "bambu lab a1 mini": "A1M",
    "bambu lab p2s": "P2S",
    "bambu lab h2d": "H2D",
    "bambu lab h2d pro": "H2DP",
    "bambu lab h2s": "H2S",
    "bambu lab h2c": "H2C",
    "c11": "P1P",
    "c12": "P1S",
    "c13": "X1E",
    "n1": "A1M",
    "n2s": "A1",
}

#: Aliases accepted for ``ConnectionOptions.model`` / ``--bambu-model``.
_ALIASES: dict[str, str] = {
    "X1CARBON": "X1C",
    "A1MINI": "A1M",
    "A1 MINI": "A1M",
    "H2D PRO": "H2DP",
    "H2DPRO": "H2DP",
}


def default_name(model_name: str | None, serial: str) -> str:
    """A Bambu printer's name when it announced none (the LAN protocol has no name).

    The serial's tail tells a farm's printers of one model apart ("P1S 5678").
    """
    return f"{model_name or 'Bambu Lab'} {serial[-4:]}"


def spec_for(code: str | None) -> ModelSpec | None:
    """The spec for a model code or alias (case-insensitive), or None."""
    if not code:
        return None
    key = code.strip().upper().replace("-", "")
    key = _ALIASES.get(key, key)
    return MODELS.get(key)


def model_from_serial(serial: str | None) -> ModelSpec | None:
    """Recognise the model from the serial number's prefix."""
    if not serial or len(serial) < 3:
        return None
    code = SERIAL_PREFIXES.get(serial[:3].upper())
    return MODELS[code] if code else None


def model_from_modules(modules: Iterable[Mapping[str, Any]]) -> ModelSpec | None:
    """Recognise the model from ``get_version`` modules (the ``ota`` module names it)."""
    for module in modules:
        if module.get("name") != "ota":
            continue
        for key in ("product_name", "project_name"):
            value = module.get(key)
            if isinstance(value, str) and value.strip().lower() in _VERSION_NAMES:
                return MODELS[_VERSION_NAMES[value.strip().lower()]]
    return None


def capabilities_for(spec: ModelSpec) -> Capabilities:
    """The normalized capabilities of one model."""
    return Capabilities(
        camera=spec.camera,
        chamber_temperature=spec.chamber_temperature,
        light=True,
        temperature_control=True,
        speed_factor=False,
        speed_presets=SPEED_PRESETS,
        ams=True,
        hms=True,
        gcode=True,
        door=spec.door,
        controllable_fans=spec.fans,
        thumbnail=False,
        layers=True,
        wifi_signal=True,
    )
