"""Capped exponential backoff for reconnect loops."""

from __future__ import annotations

from dataclasses import dataclass, field
import random


@dataclass(slots=True)
class Backoff:
    """Delays of initial, initial*factor, ... capped at ``maximum``, with jitter.

    ``reset()`` after a connection has proved healthy, so a flapping printer
    does not hammer the network and a recovered one reconnects quickly.
    """

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.1
    _attempt: int = field(default=0, init=False)

    def next_delay(self) -> float:
        """Return the delay before the next attempt and count the attempt."""
        delay = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt += 1
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)  # noqa: S311
        return min(self.maximum, max(0.0, delay))

    def reset(self) -> None:
        """Start again from the initial delay."""
        self._attempt = 0

    @property
    def attempts(self) -> int:
        """Attempts since the last reset."""
        return self._attempt
