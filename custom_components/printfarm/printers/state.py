"""The state a client holds, and everything that reads or waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import logging
from typing import Unpack

from .commands import COMMAND_CONFIRM_TIMEOUT, StatePredicate
from .exceptions import PrinterError
from .models import (
    CameraInfo,
    Capabilities,
    PrinterInfo,
    PrinterNotice,
    PrinterState,
    PrintStatus,
    StateUpdate,
)

_LOGGER = logging.getLogger(__name__)

StateListener = Callable[[PrinterState], None]


class StateHolder:
    """The latest state, its listeners, and waiters for a state to come."""

    host: str

    def __init__(self) -> None:
        """Nothing known yet: offline."""
        self._state = PrinterState()
        self._info: PrinterInfo | None = None
        self._capabilities = Capabilities()
        self._camera = CameraInfo()
        self._listeners: list[StateListener] = []
        self._waiters: list[tuple[StatePredicate, asyncio.Future[PrinterState]]] = []

    @property
    def state(self) -> PrinterState:
        """The latest normalized state."""
        return self._state

    @property
    def info(self) -> PrinterInfo:
        """Identity of the printer; valid after ``connect()``."""
        if self._info is None:
            raise PrinterError("not connected yet: call connect() first")
        return self._info

    @property
    def capabilities(self) -> Capabilities:
        """What this printer supports; valid after ``connect()``."""
        return self._capabilities

    @property
    def camera(self) -> CameraInfo:
        """Where the camera is; valid after ``connect()``."""
        return self._camera

    @property
    def connected(self) -> bool:
        """Whether the printer is reachable right now."""
        return self._state.connected

    def add_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every changed state; returns the remover."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def _update_state(self, **changes: Unpack[StateUpdate]) -> bool:
        """Apply changes; notify only if the state really changed."""
        return self._set_state(self._state.updated(changes))

    def _set_state(self, new: PrinterState) -> bool:
        if new == self._state:
            return False
        self._state = new
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(new):
                future.set_result(new)
        for listener in list(self._listeners):
            try:
                listener(new)
            except Exception:
                _LOGGER.exception("State listener of %s failed", self.host)
        return True

    def _set_notice(self, notice: PrinterNotice, *, active: bool) -> None:
        """Raise or clear one notice; listeners hear only of a real change."""
        notices = self._state.notices
        if (notice in notices) is not active:
            self._update_state(notices=notices | {notice} if active else notices - {notice})

    def _mark_offline(self, error: str | None = None) -> None:
        """The connection is gone: keep what is known, but say offline."""
        self._update_state(connected=False, status=PrintStatus.OFFLINE, error=error)

    def _watch(self, predicate: StatePredicate) -> asyncio.Future[PrinterState]:
        future: asyncio.Future[PrinterState] = asyncio.get_running_loop().create_future()
        if predicate(self._state):
            future.set_result(self._state)
        self._waiters.append((predicate, future))
        return future

    def _unwatch(self, future: asyncio.Future[PrinterState]) -> None:
        self._waiters = [(p, f) for p, f in self._waiters if f is not future]

    async def wait_for_state(
        self, predicate: StatePredicate, timeout: float = COMMAND_CONFIRM_TIMEOUT
    ) -> PrinterState:
        """Wait until the printer reports a state matching ``predicate``."""
        future = self._watch(predicate)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._unwatch(future)
