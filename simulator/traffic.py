"""How many state messages the simulated printers sent, per kind (for scripts/bench).

Every message on a push channel counts, and every answer to a status or job
poll (PrusaLink always, OctoPrint when its client polls). ``scripts/simulate`` prints the
counts as one JSON line when it gets SIGUSR2.
"""

from __future__ import annotations

from collections import Counter
import time
from typing import Any

SENT: Counter[str] = Counter()


def sent(kind: str) -> None:
    """One state message of a ``kind`` printer went out."""
    SENT[kind] += 1


def report() -> dict[str, Any]:
    """The line ``scripts/simulate`` prints: counts per kind and the clock they were read at."""
    return {"traffic": dict(SENT), "monotonic": time.monotonic()}
