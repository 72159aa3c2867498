"""Bambu report values: one converter per quirk, each telling absent from malformed.

Numbers come as numbers or strings, fan speeds as 0-15 strings, Wi-Fi as
"-45dBm", colours as RRGGBBAA, H2D temperatures packed as
target<<16 | current. A converter returns None for null and ``BAD`` for a
value that is present but unusable, so the parser can drop it.
"""

from __future__ import annotations

from typing import Any, Final

from .. import coerce

#: ``fun`` bit set when the firmware requires signed commands (authorization control).
FUN_AUTHORIZATION_REQUIRED: Final = 0x20000000


class _Bad:
    """Marker for a present but malformed value."""


BAD: Final = _Bad()


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
