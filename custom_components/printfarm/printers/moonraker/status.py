"""How Moonraker/Klipper words map onto printfarm's status vocabulary.

Two layers decide the status. Klippy's own state (``webhooks.state`` /
``server.info`` ``klippy_state``) comes first: unless Klippy is ``ready``
no job can run and ``print_stats`` is stale. When Klippy is ready,
``print_stats.state`` says what the job is doing.
"""

from __future__ import annotations

from ..models import PrintStatus

#: ``print_stats.state`` (Klippy ready) -> normalized status.
#: Klipper has no separate "preparing" phase: heating inside the file
#: (M190/M109) is already ``printing``.
PRINT_STATS_STATUS: dict[str, PrintStatus] = {
    "standby": PrintStatus.IDLE,
    "printing": PrintStatus.PRINTING,
    "paused": PrintStatus.PAUSED,
    "complete": PrintStatus.FINISHED,
    "cancelled": PrintStatus.CANCELLED,
    "error": PrintStatus.ERROR,
}

#: Klippy host state when it is not ``ready`` -> normalized status.
#: ``shutdown`` (emergency stop, MCU error) and ``error`` (config error) need
#: a FIRMWARE_RESTART; ``startup`` and ``disconnected`` mean the Klipper host is
#: not (yet) talking to Moonraker, so the printer cannot be used right now.
KLIPPY_STATUS: dict[str, PrintStatus] = {
    "shutdown": PrintStatus.ERROR,
    "error": PrintStatus.ERROR,
    "startup": PrintStatus.OFFLINE,
    "disconnected": PrintStatus.OFFLINE,
}

#: Klippy state in which ``print_stats`` is authoritative.
KLIPPY_READY = "ready"
