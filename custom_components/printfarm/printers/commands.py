"""Commands as data: what each needs, how it is confirmed, how long that may take.

Every client sends its commands through one engine (``PrinterClient._run``):
the command's needs are checked against the state first (offline, no job,
control locked ...), an idempotent command whose result already holds sends
nothing, and the command counts as done only when the printer's own state
confirms it, with one tolerance for temperatures everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Flag, auto
import math

from .exceptions import PrinterCommandError, Reason
from .limits import MAX_PATH_LENGTH
from .models import ACTIVE_STATUSES, FanKind, PrinterState, PrintStatus

StatePredicate = Callable[[PrinterState], bool]

#: How long a command waits for the printer's state to confirm it.
COMMAND_CONFIRM_TIMEOUT = 20.0
#: How long a start waits for the printer to report the job (it may load the file first).
START_CONFIRM_TIMEOUT = 60.0
#: How close a reported target must be to the one asked for, in degrees Celsius.
TEMPERATURE_TOLERANCE = 0.5


class Need(Flag):
    """What must hold before a command is sent."""

    NOTHING = 0
    CONNECTED = auto()  # the printer is reachable
    CONTROL = auto()  # the printer accepts control commands right now
    ACTIVE_JOB = auto()  # a job is preparing, printing or paused
    PAUSED_JOB = auto()  # the job is paused
    NO_JOB = auto()  # no job is under way (a new one may start)


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """One command a client can send."""

    name: str
    needs: Need = Need.CONNECTED | Need.CONTROL
    #: The state that shows the command took effect; None: the printer's acceptance is all.
    confirm: StatePredicate | None = None
    #: Nothing is sent when the state already shows the result.
    idempotent: bool = False
    #: Seconds to wait for the confirmation (None: the client's ``confirm_timeout``).
    timeout: float | None = None


# ---------------------------------------------------------------- predicates


def paused(state: PrinterState) -> bool:
    """The job is paused."""
    return state.status is PrintStatus.PAUSED


def running(state: PrinterState) -> bool:
    """The job runs (or prepares to)."""
    return state.status in (PrintStatus.PRINTING, PrintStatus.PREPARING)


def resumed(state: PrinterState) -> bool:
    """The job left its pause: it runs again (or finished meanwhile)."""
    return state.status in (PrintStatus.PRINTING, PrintStatus.PREPARING, PrintStatus.FINISHED)


def stopped(state: PrinterState) -> bool:
    """No job is under way any more."""
    return state.connected and state.status not in ACTIVE_STATUSES


def near(value: float | None, wanted: float, tolerance: float = TEMPERATURE_TOLERANCE) -> bool:
    """A reported value within ``tolerance`` of the one asked for."""
    return value is not None and abs(value - wanted) <= tolerance


# ---------------------------------------------------------------- the commands

PAUSE = Command(
    name="pause",
    needs=Need.CONNECTED | Need.CONTROL | Need.ACTIVE_JOB,
    confirm=paused,
    idempotent=True,
)
RESUME = Command(
    name="resume", needs=Need.CONNECTED | Need.CONTROL | Need.PAUSED_JOB, confirm=resumed
)
STOP = Command(name="stop", needs=Need.CONNECTED | Need.CONTROL | Need.ACTIVE_JOB, confirm=stopped)


def nozzle_target(celsius: float) -> Command:
    """Set the nozzle target; confirmed when the printer reports it."""
    return Command(name="nozzle target", confirm=lambda s: near(s.nozzle_target, celsius))


def bed_target(celsius: float) -> Command:
    """Set the bed target; confirmed when the printer reports it."""
    return Command(name="bed target", confirm=lambda s: near(s.bed_target, celsius))


def speed_factor(percent: int) -> Command:
    """Set the feed-rate override; confirmed when the printer reports it."""
    return Command(name="speed factor", confirm=lambda s: s.speed_factor == percent)


def speed_preset(preset: str, *, needs_job: bool = False) -> Command:
    """Choose a named speed level; confirmed when the printer reports it."""
    needs = Need.CONNECTED | Need.CONTROL | (Need.ACTIVE_JOB if needs_job else Need.NOTHING)
    return Command(name="speed", needs=needs, confirm=lambda s: s.speed_preset == preset)


def light(on: bool, *, needs_control: bool = True) -> Command:
    """Switch the chamber light; confirmed when the printer reports it."""
    needs = Need.CONNECTED | (Need.CONTROL if needs_control else Need.NOTHING)
    return Command(name="light", needs=needs, confirm=lambda s: s.light_on is on)


def fan(kind: FanKind, percent: int, step: float, *, reported: bool = True) -> Command:
    """Set a fan; confirmed within half the printer's reporting step (where it reports)."""
    tolerance = step / 2 + 1

    def at_speed(state: PrinterState) -> bool:
        speed = state.fan_speed(kind)
        return speed is not None and abs(speed - percent) <= tolerance

    return Command(name=f"{kind.value} fan", confirm=at_speed if reported else None)


GCODE = Command(name="G-code")


def base_name(path: str) -> str:
    """The last part of a printer file path."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def start_print(path: str, name: str | None, before: PrinterState) -> Command:
    """Start a stored file; confirmed when the printer reports that file under way.

    Printers report a job by its path, its file name or its display name
    (``name``), so any of them confirms it. A short job may run from start to
    end between two reports: that file newly finished (or failed) confirms it too.
    """
    names = {path, base_name(path)} | ({name} if name else set())

    def is_file(state: PrinterState) -> bool:
        return state.job is not None and (state.job in names or base_name(state.job) in names)

    ended = (PrintStatus.FINISHED, PrintStatus.ERROR)
    was_ended = before.status in ended and is_file(before)

    def started(state: PrinterState) -> bool:
        if not is_file(state):
            return False
        return state.status in ACTIVE_STATUSES or (state.status in ended and not was_ended)

    return Command(
        name="start print",
        needs=Need.CONNECTED | Need.CONTROL | Need.NO_JOB,
        confirm=started,
        timeout=START_CONFIRM_TIMEOUT,
    )


def check_temperature(celsius: float, maximum: float | None, what: str) -> float:
    """Validate a target temperature against the kind's limit before anything is sent."""
    if maximum is None:
        raise PrinterCommandError(f"{what}: not settable", reason=Reason.UNSUPPORTED)
    if isinstance(celsius, bool) or not isinstance(celsius, int | float) or math.isnan(celsius):
        raise PrinterCommandError(
            f"{what}: {celsius!r} is not a temperature", reason=Reason.INVALID_VALUE
        )
    if celsius < 0 or celsius > maximum:
        raise PrinterCommandError(
            f"{what}: {celsius} °C is outside 0-{maximum:g} °C", reason=Reason.INVALID_VALUE
        )
    return float(celsius)


def check_percent(percent: int, low: int | None, high: int | None, what: str) -> int:
    """Validate a whole percentage against a range before anything is sent."""
    if low is None or high is None:
        raise PrinterCommandError(f"{what}: not settable", reason=Reason.UNSUPPORTED)
    if isinstance(percent, bool) or not isinstance(percent, int) or not low <= percent <= high:
        raise PrinterCommandError(
            f"{what}: {percent!r} is not {low}-{high} %", reason=Reason.INVALID_VALUE
        )
    return percent


def check_file_path(path: object) -> str:
    """Validate a file path a caller asks to print before anything is sent."""
    if path is None or (isinstance(path, str) and not path.strip()):
        raise PrinterCommandError("start print: no file chosen", reason=Reason.NO_FILE)
    if (
        not isinstance(path, str)
        or len(path) > MAX_PATH_LENGTH
        or any(ord(c) < 0x20 or c == "\x7f" for c in path)
        or ".." in path.split("/")
    ):
        raise PrinterCommandError(
            f"start print: {str(path)[:80]!r} is not a file path", reason=Reason.INVALID_VALUE
        )
    return path


def fan_pwm(percent: int) -> int:
    """A fan speed in percent as the 0-255 ``S`` value of ``M106``."""
    return round(percent * 255 / 100)
