"""Lenient conversions for values read from printer payloads.

Firmware sends numbers as strings, booleans as 0/1, NaN and worse; parsers
use these so a wrong type becomes None (keep the last good value) instead of
an exception.
"""

from __future__ import annotations

import math
from typing import Any


def as_float(value: Any) -> float | None:
    """A finite number from a number or numeric string, else None (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """A whole number (rounded) from a number or numeric string, else None."""
    number = as_float(value)
    return None if number is None else round(number)


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object (string keys), else an empty dict."""
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return value
    return {}
