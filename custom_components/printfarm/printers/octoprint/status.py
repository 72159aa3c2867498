"""OctoPrint's state words, mapped to printfarm's status vocabulary.

OctoPrint reports one human-readable state string (``/api/job`` ``state``,
``/api/printer`` ``state.text``, push ``current.state.text``). The table
below is the whole mapping; anything not in it falls back to the state
flags, and failing those to ``OFFLINE`` (never a crash).

OctoPrint has no "finished" or "cancelled" state: after a job it says
``Operational`` again. ``job_outcome`` decides that from what the job did.
"""

from __future__ import annotations

from ..models import PrintStatus

#: Native OctoPrint state text -> normalized status.
STATUS_MAP: dict[str, PrintStatus] = {
    # no serial connection to the printer (server reachable, printer not)
    "Offline": PrintStatus.OFFLINE,
    "Closed": PrintStatus.OFFLINE,
    "Opening serial connection": PrintStatus.OFFLINE,
    "Detecting serial connection": PrintStatus.OFFLINE,
    "Detecting serial port": PrintStatus.OFFLINE,
    "Detecting baudrate": PrintStatus.OFFLINE,
    "Connecting": PrintStatus.OFFLINE,
    "Transferring file to SD": PrintStatus.PREPARING,
    "Sending file to SD": PrintStatus.PREPARING,
    "Starting": PrintStatus.PREPARING,
    "Starting print from SD": PrintStatus.PREPARING,
    "Starting to send file to SD": PrintStatus.PREPARING,
    # connected and doing nothing (or done: see job_outcome)
    "Operational": PrintStatus.IDLE,
    "Ready": PrintStatus.IDLE,
    # a job is under way
    "Printing": PrintStatus.PRINTING,
    "Printing from SD": PrintStatus.PRINTING,
    "Resuming": PrintStatus.PRINTING,
    "Finishing": PrintStatus.PRINTING,
    # the head is still finishing its moves; pause is confirmed by "Paused"
    "Pausing": PrintStatus.PRINTING,
    "Paused": PrintStatus.PAUSED,
    # the job is being aborted: no pause/resume any more
    "Cancelling": PrintStatus.CANCELLED,
    # the printer reported a fault (MAXTEMP, thermal runaway, lost serial ...)
    "Error": PrintStatus.ERROR,
    "Offline after error": PrintStatus.ERROR,
    "Closed with error": PrintStatus.ERROR,
    "Unknown State": PrintStatus.OFFLINE,
}

#: Order in which ``state.flags`` decide a state whose text is unknown.
_FLAG_ORDER: tuple[tuple[str, PrintStatus], ...] = (
    ("error", PrintStatus.ERROR),
    ("cancelling", PrintStatus.CANCELLED),
    ("paused", PrintStatus.PAUSED),
    ("pausing", PrintStatus.PRINTING),
    ("printing", PrintStatus.PRINTING),
    ("resuming", PrintStatus.PRINTING),
    ("finishing", PrintStatus.PRINTING),
    ("operational", PrintStatus.IDLE),
)


def map_status(text: str | None, flags: dict[str, bool] | None = None) -> PrintStatus:
    """Normalize one OctoPrint state (text first, then flags, else offline)."""
    if text is not None:
        status = STATUS_MAP.get(text.strip())
        if status is not None:
            return status
        # OctoPrint prefixes some states with details ("Error: ...", "Offline after error")
        lowered = text.strip().lower()
        if lowered.startswith("error") or "after error" in lowered:
            return PrintStatus.ERROR
        if lowered.startswith("printing"):
            return PrintStatus.PRINTING
    for flag, status in _FLAG_ORDER:
        if flags and flags.get(flag):
            return status
    return PrintStatus.OFFLINE


def job_outcome(
    previous: PrintStatus, current: PrintStatus, completion: float | None
) -> PrintStatus:
    """Turn "Operational after a job" into finished or cancelled.

    ``previous`` is the status the client reported before this poll;
    ``current`` the mapped status of this poll. A job that ran and left
    ``Operational`` behind finished if its completion reached 100 %,
    otherwise it was cancelled. A completed job stays ``FINISHED`` while
    OctoPrint keeps reporting 100 % (until the next job starts).
    """
    if current is not PrintStatus.IDLE:
        return current
    if completion is not None and completion >= 100.0:
        return PrintStatus.FINISHED
    if previous in (PrintStatus.PRINTING, PrintStatus.PAUSED, PrintStatus.PREPARING):
        return PrintStatus.CANCELLED
    if previous is PrintStatus.CANCELLED:
        return PrintStatus.CANCELLED
    return current
