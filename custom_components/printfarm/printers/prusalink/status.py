"""PrusaLink ``printer.state`` values and the printfarm status each one means."""

from __future__ import annotations

from ..models import PrintStatus

#: Native PrusaLink v1 ``printer.state`` -> normalized status.
#:
#: * ``IDLE`` and ``READY`` (Buddy: "ready to print", set from the printer or
#:   Prusa Connect) are both idle.
#: * ``BUSY`` means the printer is doing something on its own (homing, loading
#:   filament, a calibration). With a job present it is the job's preparation;
#:   without one it is idle for printfarm's purposes. That decision needs the
#:   job, so it lives in :func:`map_status`, and this table holds the no-job case.
#: * ``STOPPED`` is a job cancelled by the user -> cancelled.
#: * ``ATTENTION`` is the printer waiting for a human (filament runout, crash
#:   detection, a dialog on the screen): reported as an error whose text is the
#:   printer's message, so it is never silently treated as paused.
STATUS_MAP: dict[str, PrintStatus] = {
    "IDLE": PrintStatus.IDLE,
    "READY": PrintStatus.IDLE,
    "BUSY": PrintStatus.IDLE,
    "PRINTING": PrintStatus.PRINTING,
    "PAUSED": PrintStatus.PAUSED,
    "FINISHED": PrintStatus.FINISHED,
    "STOPPED": PrintStatus.CANCELLED,
    "ERROR": PrintStatus.ERROR,
    "ATTENTION": PrintStatus.ERROR,
}

#: Error text used when the printer gives no message of its own.
DEFAULT_ERROR_TEXT: dict[str, str] = {
    "ERROR": "Printer reports an error",
    "ATTENTION": "Printer needs attention",
}


def map_status(native: str, *, has_job: bool) -> PrintStatus | None:
    """Normalize a native state; ``None`` for a value this table does not know."""
    if native == "BUSY" and has_job:
        return PrintStatus.PREPARING
    return STATUS_MAP.get(native)
