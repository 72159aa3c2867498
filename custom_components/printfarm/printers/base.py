"""The contract every protocol client fulfils, and the machinery written once for all five.

A client is used like this::

    async with OctoPrintClient("10.0.0.5", api_key=key, session=session) as client:
        client.add_listener(print)          # called with each new PrinterState
        await client.pause()                # returns once the printer reports paused

``connect()`` makes the first connection inline, so bad credentials or an
unreachable host raise at once (only the typed errors of ``exceptions``).
After that a supervisor keeps the connection alive. While connected, two
things run side by side: the client's ``_listen()`` (its push loop; nothing
for kinds that poll) and the base's heartbeat, which runs ``_probe()`` (a poll,
or a request the printer must answer) every ``poll_interval`` seconds, faster
right after a command. The state is *healthy* while a round trip completed
within ``stale_after`` seconds; past that it is stale: the printer shows
offline and the client reconnects. Whatever ends a connection, any exception
but cancellation, the supervisor logs it, marks the printer offline, tears
down without raising, backs off and reconnects. Refused credentials stop the
reconnect loop (retrying a wrong access code only locks users out) and are
reported through ``last_error``. ``close()`` never raises.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Any, ClassVar, Self

import aiohttp

from .backoff import Backoff
from .coerce import brief
from .descriptor import KindDescriptor
from .exceptions import (
    PrinterAuthError,
    PrinterConnectionError,
    PrinterError,
    PrinterProtocolError,
    Reason,
)
from .features import Features
from .models import PrinterKind, PrinterState
from .plumbing import Owned, Pending, cancel_and_wait
from .printing import Printing
from .state import StateListener

_LOGGER = logging.getLogger(__name__)

__all__ = ["PrinterClient", "StateListener"]


async def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


async def _close_session(session: aiohttp.ClientSession) -> None:
    await session.close()


class PrinterClient(Printing, Features, ABC):
    """Base class of the five protocol clients."""

    kind: ClassVar[PrinterKind]
    descriptor: ClassVar[KindDescriptor]

    def __init__(
        self,
        host: str,
        *,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 10.0,
        poll_interval: float | None = None,
        stale_after: float | None = None,
    ) -> None:
        """Store the host; subclasses add their credentials. Nothing is opened yet."""
        super().__init__()
        self.host = host
        self.request_timeout = request_timeout
        #: Seconds between round trips that prove the state current.
        self.poll_interval = poll_interval or self.descriptor.poll_interval
        #: Seconds between polls right after a command (None: the kind pushes).
        self.fast_poll_interval = self.descriptor.fast_poll_interval
        #: Without a round trip this long, the state is stale.
        self.stale_after = stale_after or max(
            self.descriptor.stale_after, self.poll_interval + request_timeout
        )
        #: Facts for diagnostics that no entity shows (they never wake a listener).
        self.details: dict[str, Any] = {}
        self._pendings: list[Pending[Any, Any]] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._last_fresh = 0.0
        self._logged: set[str] = set()
        self.last_error: PrinterError | None = None
        self.backoff = Backoff()
        self._http = Owned(session, _new_session, _close_session, lambda s: s.closed)

    def _new_pending(self) -> Pending[Any, Any]:
        """Replies awaited on this client's connection; failed when it goes."""
        pending: Pending[Any, Any] = Pending()
        self._pendings.append(pending)
        return pending

    async def _session(self) -> aiohttp.ClientSession:
        """The aiohttp session: the one handed in, else the client's own."""
        return await self._http.get()

    # ------------------------------------------------------------- freshness

    def _fresh(self) -> None:
        """A round trip completed (or a message the kind counts as one): the state is current."""
        self._last_fresh = asyncio.get_running_loop().time()

    def _probe_interval(self) -> float:
        """Seconds until the next probe."""
        fast = self.fast_poll_interval
        if fast is not None and asyncio.get_running_loop().time() < self._fast_until:
            return min(fast, self.poll_interval)
        return self.poll_interval

    async def _probe(self) -> None:
        """One round trip that proves the state current; by default a full refresh."""
        await self.refresh()

    async def _heartbeat(self) -> None:
        """Probe on the kind's cadence; raise once the state has gone stale."""
        loop = asyncio.get_running_loop()
        healthy = False
        while True:
            deadline = self._last_fresh + self.stale_after
            wait = min(self._probe_interval(), max(0.0, deadline - loop.time()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            self._wake.clear()
            if loop.time() - self._last_fresh > self.stale_after:
                raise PrinterConnectionError(
                    f"{self.host}: no fresh state for {self.stale_after:g} s", reason=Reason.STALE
                )
            left = self._last_fresh + self.stale_after - loop.time()
            try:
                async with asyncio.timeout(max(0.05, min(self.request_timeout, left))):
                    await self._probe()
            except TimeoutError:
                _LOGGER.debug("%s did not answer a probe in time", self.host)
                continue
            except PrinterProtocolError as err:  # a bad answer is not a dead printer
                _LOGGER.debug("Ignoring a bad answer from %s: %s", self.host, err)
                continue
            self._fresh()
            if not healthy:
                healthy = True
                self.backoff.reset()

    # -------------------------------------------------------------- lifecycle

    async def connect(self) -> None:
        """Connect, authenticate and read the full state; then keep it live.

        Raises only PrinterError subclasses (connection, auth, protocol).
        """
        self._closing = False
        await self._open_guarded()
        self.backoff.reset()
        self._supervisor = asyncio.create_task(
            self._supervise(), name=f"printfarm {self.kind} {self.host}"
        )

    async def close(self) -> None:
        """Stop the supervisor and close every connection this client opened; never raises."""
        self._closing = True
        task, self._supervisor = self._supervisor, None
        await cancel_and_wait(task)
        await self._teardown_quietly()
        self._mark_offline()
        await self._http.close()

    async def __aenter__(self) -> Self:
        """Connect on entry."""
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close on exit."""
        await self.close()

    async def _open_guarded(self) -> None:
        """``_open()``; on any failure tear down, and raise only typed errors."""
        try:
            await self._open()
        except BaseException as err:
            await self._teardown_quietly()
            if isinstance(err, PrinterError) or not isinstance(err, Exception):
                raise
            self._log_unexpected(err)
            raise PrinterProtocolError(
                f"{self.host}: unexpected {type(err).__name__} while connecting"
            ) from err
        self._fresh()

    async def _teardown_quietly(self) -> None:
        """``_teardown()`` that never raises; every awaited reply fails at once."""
        gone = PrinterConnectionError(f"connection to {self.host} closed")
        for pending in self._pendings:
            pending.fail_all(gone)
        try:
            await self._teardown()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - a broken connection may fail to close
            _LOGGER.debug("Closing the connection to %s failed: %s", self.host, brief(err))

    def _log_unexpected(self, err: BaseException) -> None:
        """Log an exception that is not a typed error: in full once, briefly after that."""
        key = type(err).__name__
        first = key not in self._logged
        self._logged.add(key)
        _LOGGER.log(
            logging.ERROR if first else logging.DEBUG,
            "Unexpected %s from %s printer %s; reconnecting: %s",
            key,
            self.kind,
            self.host,
            brief(str(err)),
            exc_info=err if first else None,
        )

    async def _serve(self) -> None:
        """Run the push loop and the heartbeat until either ends the connection."""
        tasks = (
            asyncio.create_task(self._listen(), name=f"printfarm {self.kind} {self.host} listen"),
            asyncio.create_task(self._heartbeat(), name=f"printfarm {self.kind} {self.host} beat"),
        )
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            raise PrinterConnectionError(f"the connection to {self.host} ended")
        finally:
            await cancel_and_wait(*tasks)

    async def _supervise(self) -> None:
        """Keep the connection alive: serve, and after any failure reconnect with backoff."""
        while not self._closing:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except PrinterAuthError as err:
                await self._lose(err)
                return
            except PrinterError as err:
                _LOGGER.debug("Connection to %s lost: %s", self.host, err)
                await self._lose(err)
            except Exception as err:  # noqa: BLE001 - nothing may end the supervisor
                self._log_unexpected(err)
                await self._lose(PrinterProtocolError(f"unexpected {type(err).__name__}"))
            if not await self._reconnect():
                return

    async def _lose(self, err: PrinterError) -> None:
        self.last_error = err
        await self._teardown_quietly()
        if not self._closing:
            self._mark_offline(str(err) if isinstance(err, PrinterAuthError) else None)

    async def _reconnect(self) -> bool:
        """Try again with capped backoff; False when closing or the credentials are refused."""
        while True:
            await asyncio.sleep(self.backoff.next_delay())
            if self._closing:
                return False
            try:
                await self._open_guarded()
            except PrinterAuthError as err:
                self.last_error = err
                self._mark_offline(str(err))
                _LOGGER.warning("Printer %s refused the credentials; not retrying", self.host)
                return False
            except PrinterError as err:
                self.last_error = err
                self._mark_offline()
                _LOGGER.debug("Reconnect to %s failed: %s", self.host, err)
            else:
                return True

    # ------------------------------------------------------- protocol hooks

    @abstractmethod
    async def _open(self) -> None:
        """Open the connection, authenticate and load info, capabilities and full state.

        Must set ``self._info`` and a connected state. Whatever it raises, the
        base tears down and reports a typed error.
        """

    async def _listen(self) -> None:
        """Consume pushes until the connection is lost, then raise; polling kinds wait."""
        await asyncio.Event().wait()

    @abstractmethod
    async def _teardown(self) -> None:
        """Close the connection opened by ``_open``; idempotent."""

    @abstractmethod
    async def refresh(self) -> PrinterState:
        """Ask the printer for its full state now and return it."""
