"""SDCP status codes -> printfarm's status vocabulary.

An SDCP status message carries two codes:

* ``PrintInfo.Status``: the job's phase. Its meaning differs between the
  resin printers of the SDCP v3 spec and the Centauri Carbon (FDM) firmware,
  so there are two tables: ``FDM_PRINT_STATUS`` and ``RESIN_PRINT_STATUS``.
* ``CurrentStatus``: a list of machine activity codes (``[1]`` = printing).
  ``MACHINE_STATUS`` maps it; it is the fallback whenever the job code is
  missing or unknown (community captures disagree on a few FDM codes and new
  firmware adds codes), so an unknown code never crashes and never hides a
  running print. The unknown code itself is kept as ``native_status``.

The job code keeps the last job's result after the job ended (``8`` stopped,
``9`` complete) while the machine is idle: printfarm reports that as
cancelled / finished, like the other brands do until the next job starts.
Transitional codes (pausing, stopping) are reported as the state the printer
is moving into, because the printer has accepted the command by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..models import PrintStatus

P = PrintStatus


class Flavor(StrEnum):
    """Which ``PrintInfo.Status`` table a printer uses."""

    FDM = "fdm"  # Centauri Carbon
    RESIN = "resin"  # SDCP v3 spec (Saturn / Mars resin printers)


#: Centauri Carbon ``PrintInfo.Status``: code -> (native name, normalized status).
#: ``None`` as status means "ask CurrentStatus" (the code says nothing about the job).
FDM_PRINT_STATUS: dict[int, tuple[str, PrintStatus | None]] = {
    0: ("idle", P.IDLE),
    1: ("homing", P.PREPARING),
    2: ("dropping", None),  # 2-4: resin codes in the shared table, not seen on FDM
    3: ("exposing", None),
    4: ("lifting", None),
    5: ("pausing", P.PAUSED),
    6: ("paused", P.PAUSED),
    7: ("stopping", P.CANCELLED),
    8: ("stopped", P.CANCELLED),
    9: ("complete", P.FINISHED),
    10: ("file_checking", P.PREPARING),
    11: ("printer_check", P.PREPARING),
    12: ("resuming", P.PRINTING),
    13: ("printing", P.PRINTING),
    14: ("error", P.ERROR),
    15: ("auto_leveling", P.PREPARING),
    16: ("preheating", P.PREPARING),
    17: ("resonance_test", P.PREPARING),
    18: ("print_start", P.PREPARING),
    19: ("leveling_done", P.PREPARING),
    20: ("preheat_done", P.PREPARING),
    21: ("homing_done", P.PREPARING),
    22: ("resonance_done", P.PREPARING),
    23: ("auto_feeding", None),
    24: ("filament_unloading", None),
    25: ("filament_unload_abnormal", None),
    26: ("filament_unload_paused", None),
}

#: SDCP v3 spec (resin) ``PrintInfo.Status``: code -> (native name, normalized status).
RESIN_PRINT_STATUS: dict[int, tuple[str, PrintStatus | None]] = {
    0: ("idle", P.IDLE),
    1: ("homing", P.PREPARING),
    2: ("dropping", P.PRINTING),
    3: ("exposing", P.PRINTING),
    4: ("lifting", P.PRINTING),
    5: ("pausing", P.PAUSED),
    6: ("paused", P.PAUSED),
    7: ("stopping", P.CANCELLED),
    8: ("stopped", P.CANCELLED),
    9: ("complete", P.FINISHED),
    10: ("file_checking", P.PREPARING),
}

#: ``CurrentStatus`` machine activity codes: code -> (native name, normalized status).
#: 5-12 are added by newer FDM firmware for maintenance activities (leveling,
#: input shaping, filament loading, PID tuning ...); the machine is busy but
#: no job runs, so they count as preparing.
MACHINE_STATUS: dict[int, tuple[str, PrintStatus]] = {
    0: ("idle", P.IDLE),
    1: ("printing", P.PRINTING),
    2: ("file_transfer", P.IDLE),
    3: ("calibrating", P.PREPARING),
    4: ("self_test", P.PREPARING),
    **{code: (f"busy_{code}", P.PREPARING) for code in range(5, 13)},
}

#: ``PrintInfo.ErrorNumber`` (file errors reported with the job).
FILE_ERRORS: dict[int, str] = {
    1: "file MD5 check failed",
    2: "file read failed",
    3: "resolution mismatch",
    4: "unknown file format",
    5: "file made for another model",
}


@dataclass(frozen=True, slots=True)
class ResolvedStatus:
    """The normalized status with the native word kept beside it."""

    status: PrintStatus
    native: str | None


def resolve_status(
    flavor: Flavor, print_code: int | None, machine_codes: tuple[int, ...]
) -> ResolvedStatus:
    """Combine ``PrintInfo.Status`` and ``CurrentStatus`` into one status."""
    table = FDM_PRINT_STATUS if flavor is Flavor.FDM else RESIN_PRINT_STATUS
    entry = table.get(print_code) if print_code is not None else None
    machine = _machine_status(machine_codes)
    if entry is not None and entry[1] is not None:
        return ResolvedStatus(entry[1], entry[0])
    if entry is not None:
        native = entry[0]
    elif print_code is not None:
        native = str(print_code)  # unknown code: keep the printer's own value
    else:
        native = None
    if machine is None:
        return ResolvedStatus(P.IDLE, native)
    return ResolvedStatus(machine[1], native if native is not None else machine[0])


def _machine_status(codes: tuple[int, ...]) -> tuple[str, PrintStatus] | None:
    """The most significant machine activity: printing beats busy beats idle."""
    if not codes:
        return None
    if 1 in codes:
        return MACHINE_STATUS[1]
    known = [MACHINE_STATUS[c] for c in codes if c in MACHINE_STATUS]
    for entry in known:
        if entry[1] is not P.IDLE:
            return entry
    if known:
        return known[0]
    return (str(codes[0]), P.IDLE)
