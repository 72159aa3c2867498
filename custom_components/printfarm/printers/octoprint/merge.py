"""One reading of OctoPrint (a poll or a push), turned into normalized state fields.

A poll reads ``/api/job`` and ``/api/printer`` (409 when the printer is not
connected); a push ``current`` message carries the same parts. Both go
through :func:`state_changes`, so the two paths cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import Reason
from ..models import PrinterState, PrintStatus, StateUpdate
from .parse import Heater, JobReport, PrinterReport, parse_error
from .status import job_outcome, map_status


@dataclass(frozen=True, slots=True)
class Reading:
    """What one poll or push said about the printer."""

    job: JobReport
    printer_text: str | None  # None: /api/printer answered 409 (no printer connected)
    flags: dict[str, bool]
    printer_error: str | None
    tool0: Heater | None
    bed: Heater | None
    chamber: Heater | None

    @classmethod
    def from_printer(cls, job: JobReport, report: PrinterReport) -> Reading:
        """A poll whose ``/api/printer`` answered 200."""
        return cls(
            job, report.text, report.flags, report.error, report.tool0, report.bed, report.chamber
        )

    @classmethod
    def printer_absent(cls, job: JobReport, body: object) -> Reading:
        """A poll whose ``/api/printer`` answered 409: no printer connected to OctoPrint."""
        return cls(job, None, {}, parse_error(body), None, None, None)

    @classmethod
    def from_push(
        cls,
        text: str | None,
        flags: dict[str, bool],
        job: JobReport,
        temps: tuple[Heater | None, Heater | None, Heater | None],
        keep: PrinterState,
    ) -> Reading:
        """A push ``current``: it carries only the temperatures measured since the last one."""
        tool0, bed, chamber = temps
        return cls(
            job=job,
            printer_text=text,
            flags=flags,
            printer_error=job.error,
            tool0=tool0 or _heater(keep.nozzle_temp, keep.nozzle_target),
            bed=bed or _heater(keep.bed_temp, keep.bed_target),
            chamber=chamber or _heater(keep.chamber_temp, None),
        )


def _heater(actual: float | None, target: float | None) -> Heater | None:
    if actual is None and target is None:
        return None
    return Heater(actual=actual, target=target)


def printer_is_offline(reading: Reading, mapped: PrintStatus) -> bool:
    """Whether OctoPrint has no usable serial link to the printer.

    Signs: ``/api/printer`` said 409, the flags say closed or not
    operational, or the state is offline or an error (OctoPrint closes the
    link on errors; ``/api/job`` and ``/api/printer`` are read separately and
    may straddle the moment it does).
    """
    flags = reading.flags
    return (
        (reading.printer_text is None and not flags)
        or flags.get("closedOrError", False)
        or flags.get("operational") is False
        or mapped in (PrintStatus.OFFLINE, PrintStatus.ERROR)
    )


def state_changes(reading: Reading, previous: PrintStatus, file_changed: bool) -> StateUpdate:
    """PrinterState fields for this reading.

    ``previous`` is the status reported before; ``file_changed`` says that a
    different file is selected now (which forgets the last job's outcome).
    """
    job = reading.job
    native = job.state or reading.printer_text or ("Offline" if not reading.flags else None)
    mapped = map_status(native, reading.flags)
    offline = printer_is_offline(reading, mapped)
    if file_changed and mapped is PrintStatus.IDLE:
        previous = PrintStatus.IDLE
    status = job_outcome(previous, mapped, job.completion)
    # the same error text whether it came by poll or by push (no flapping):
    # OctoPrint's own error string; the 409 text only says "not operational"
    error = None
    if status in (PrintStatus.ERROR, PrintStatus.OFFLINE):
        error = job.error or (reading.printer_error if reading.printer_text is not None else None)
        if status is PrintStatus.ERROR and error is None:
            error = native
    tool0, bed, chamber = (
        (None, None, None)
        if offline
        else (
            reading.tool0,
            reading.bed,
            reading.chamber,
        )
    )
    return {
        "connected": True,
        "status": status,
        "native_status": native,
        "progress": job.completion,
        "remaining_s": job.print_time_left,
        "elapsed_s": job.print_time,
        "job": job.file_display,
        "nozzle_temp": tool0.actual if tool0 else None,
        "nozzle_target": tool0.target if tool0 else None,
        "bed_temp": bed.actual if bed else None,
        "bed_target": bed.target if bed else None,
        "chamber_temp": chamber.actual if chamber else None,
        "error": error,
        "control_available": not offline,
        "control_unavailable_reason": Reason.PRINTER_OFFLINE if offline else None,
    }
