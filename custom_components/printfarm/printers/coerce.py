"""Conversions of values read from printer payloads, written once for every protocol.

Firmware sends numbers as strings, booleans as 0/1, NaN, integers too large
for a float and worse. These helpers turn a wrong value into None (the
caller keeps its last good value) and never raise; the decoders turn bytes
that are not JSON into a typed :class:`PrinterProtocolError`.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
import logging
import math
import reprlib
from typing import Any

from .exceptions import PrinterProtocolError, Reason
from .limits import MAX_DEPTH, MAX_MESSAGE_BYTES

_LOGGER = logging.getLogger(__name__)
_BRIEF = reprlib.Repr(maxlevel=3, maxstring=60, maxother=60, maxlong=40)
_BRIEF.maxdict = _BRIEF.maxlist = 6


def as_float(value: Any) -> float | None:
    """A finite number from a number or numeric string, else None (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)  # OverflowError: an int too large for a float
        elif isinstance(value, str) and len(value) <= 64:
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """A whole number (rounded) from a number or numeric string, else None."""
    number = as_float(value)
    return None if number is None else round(number)


def as_str(value: Any) -> str | None:
    """A string (empty included), else None."""
    return value if isinstance(value, str) else None


def as_text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_bool(value: Any) -> bool | None:
    """A boolean, also from 0/1 and "true"/"false"/"0"/"1"; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
    return None


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object (string keys), else an empty dict."""
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return value
    return {}


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def deep_merge(
    base: Mapping[str, Any], delta: Mapping[str, Any], depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """``base`` updated with ``delta``: nested objects merge, everything else replaces.

    Below ``depth`` levels objects are replaced whole instead of merged.
    """
    merged = dict(base)
    for key, value in delta.items():
        old = merged.get(key)
        if depth > 0 and isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = deep_merge(old, value, depth - 1)
        else:
            merged[key] = value
    return merged


def brief(value: Any) -> str:
    """A short repr for logs: bounded in length and depth whatever the value."""
    try:
        return _BRIEF.repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails must not break a log line
        return f"<{type(value).__name__}>"


def decode_json(raw: str | bytes, what: str, *, limit: int = MAX_MESSAGE_BYTES) -> Any:
    """Decode one JSON document, or raise PrinterProtocolError (too large, not JSON)."""
    if len(raw) > limit:
        raise PrinterProtocolError(
            f"{what}: {len(raw)} bytes is over the {limit}-byte limit", reason=Reason.TOO_LARGE
        )
    try:
        return json.loads(raw)
    except RecursionError as err:
        raise PrinterProtocolError(f"{what}: JSON nested too deeply") from err
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError, digits limit
        raise PrinterProtocolError(f"{what}: not JSON") from err


def decode_object(raw: str | bytes, what: str, *, limit: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """Decode a JSON object (string keys), or raise PrinterProtocolError."""
    value = decode_json(raw, what, limit=limit)
    if not isinstance(value, dict):
        raise PrinterProtocolError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def decode_message(raw: str | bytes, what: str, source: str) -> dict[str, Any] | None:
    """A pushed message as a JSON object, or None when it is not one.

    A printer's bad message is dropped (logged at debug with ``source``), never
    raised: the connection stays and the next good message follows.
    """
    try:
        return decode_object(raw, what)
    except PrinterProtocolError as err:
        _LOGGER.debug("Dropping a %s from %s: %s", what, source, err)
        return None
