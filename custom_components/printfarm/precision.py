"""Values shown at the precision a user reads them, written only when they move a step.

A printer that prints steadily changes its time left, progress and estimated
finish with every report (Klipper about four times a second). Each changed
state is a row in the recorder's database, yet a user reads these values to
the minute or to the percent. A sensor whose description has a ``step``
therefore shows its value rounded to that step (timestamps: down to the
step), and keeps showing it until the raw value has moved a whole step away
from what is shown. The hysteresis matters: a bare rounding would flip
between two values whenever an estimate jitters around a rounding boundary.

Steps are in the sensor's native unit (seconds for durations and timestamps,
percent for progress). Unknown and non-numeric values always go through.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import math

from homeassistant.helpers.typing import StateType

type Shown = StateType | datetime

#: Time left, elapsed time, estimated finish and start: a minute.
MINUTE = 60.0
#: Progress: one percent.
PERCENT = 1.0
#: A total shown in hours with one decimal (the farm's print time today, which grows by
#: a second per printing printer per second): a tenth of an hour.
TENTH_HOUR = 360.0


def quantise(value: Shown, step: float) -> Shown:
    """``value`` at ``step`` precision: numbers rounded, timestamps floored."""
    if isinstance(value, datetime):
        return value - timedelta(seconds=value.timestamp() % step)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not math.isfinite(value):
        return value
    return round(value / step) * step


def _distance(a: Shown, b: Shown) -> float | None:
    """How far apart two shown values are, or None when they do not compare."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        return abs((a - b).total_seconds())
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return abs(float(a) - float(b))
    return None


def settle(shown: Shown, new: Shown, step: float | None) -> Shown:
    """What to show next: ``shown`` until ``new`` is a whole ``step`` away from it."""
    if step is None:
        return new
    distance = _distance(shown, new)
    if distance is not None and distance < step:
        return shown
    return quantise(new, step)
