"""The one engine every client's commands run through (see ``commands``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from .commands import COMMAND_CONFIRM_TIMEOUT, Command, Need
from .descriptor import KindDescriptor
from .exceptions import PrinterCommandError, PrinterConnectionError, Reason
from .models import ACTIVE_STATUSES, PrinterState, PrintStatus
from .state import StateHolder

#: What a command's sender returns: nothing, or the printer's acknowledgement to await.
Ack = Awaitable[Any] | None
#: Seconds polling stays fast after a command.
FAST_POLL_WINDOW = 30.0


class CommandEngine(StateHolder):
    """Checks a command's needs, sends it, and waits for the state that confirms it."""

    descriptor: ClassVar[KindDescriptor]

    def __init__(self) -> None:
        """No command sent yet."""
        super().__init__()
        #: Seconds a command waits for the state that confirms it (unless it says otherwise).
        self.confirm_timeout = COMMAND_CONFIRM_TIMEOUT
        self._fast_until = 0.0
        self._wake = asyncio.Event()

    def _after_command(self) -> None:
        """A command went out: poll fast for a while and probe now."""
        self._fast_until = asyncio.get_running_loop().time() + FAST_POLL_WINDOW
        self._wake.set()

    def _require(self, command: Command) -> None:
        """Refuse a command whose needs the state does not meet, before anything is sent."""
        state, needs, name = self._state, command.needs, command.name
        if Need.CONNECTED in needs and not state.connected:
            raise PrinterConnectionError(f"{name}: printer {self.host} is offline")
        if Need.CONTROL in needs and not state.control_available:
            raise PrinterCommandError(
                f"{name}: the printer does not accept control now",
                reason=state.control_unavailable_reason or Reason.CONTROL_UNAVAILABLE,
            )
        job = Need.ACTIVE_JOB | Need.PAUSED_JOB
        if needs & job and state.status not in ACTIVE_STATUSES:
            raise PrinterCommandError(
                f"{name}: no job is running (status is {state.status})", reason=Reason.NOT_PRINTING
            )
        if Need.PAUSED_JOB in needs and state.status is not PrintStatus.PAUSED:
            raise PrinterCommandError(f"{name}: the job is not paused", reason=Reason.NOT_PAUSED)
        if Need.NO_JOB in needs and state.status in ACTIVE_STATUSES:
            raise PrinterCommandError(
                f"{name}: the printer is busy (status is {state.status})", reason=Reason.BUSY
            )

    async def _run(self, command: Command, send: Callable[[], Awaitable[Ack]]) -> None:
        """Check, send, and wait until the printer's state confirms ``command``."""
        self._require(command)
        confirm = command.confirm
        if command.idempotent and confirm is not None and confirm(self._state):
            return
        watch = None if confirm is None else self._watch(confirm)
        try:
            ack = await send()
            self._after_command()
            async with asyncio.timeout(command.timeout or self.confirm_timeout):
                if ack is not None and watch is None:
                    await ack
                elif ack is not None and watch is not None:
                    await self._first_of(watch, asyncio.ensure_future(ack))
                elif watch is not None:
                    await watch
        except TimeoutError as err:
            raise PrinterCommandError(
                f"{command.name}: the printer did not confirm it (status is {self._state.status})",
                reason=Reason.NOT_CONFIRMED,
            ) from err
        finally:
            if watch is not None:
                self._unwatch(watch)

    @staticmethod
    async def _first_of(watch: asyncio.Future[PrinterState], ack: asyncio.Future[Any]) -> None:
        """Wait for the confirming state; an acknowledgement that refuses raises first."""
        pending: set[asyncio.Future[Any]] = {watch, ack}
        try:
            while watch in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if ack in done:
                    ack.result()
        finally:
            if not ack.done():
                ack.cancel()
