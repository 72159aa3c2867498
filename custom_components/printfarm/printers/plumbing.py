"""Two pieces of machinery every client needs: pending replies and owned sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from typing import Any

from .exceptions import PrinterConnectionError, PrinterError, Reason


class Pending[K, V]:
    """Requests waiting for their reply, matched by a key (RPC id, RequestID, sequence).

    ``expect`` before sending, ``resolve`` when the reply arrives, ``wait`` for
    it with a timeout. When the connection goes, ``fail_all`` wakes every
    waiter with the error instead of leaving it to time out.
    """

    def __init__(self) -> None:
        """Nothing is pending."""
        self._futures: dict[K, asyncio.Future[V]] = {}

    def __len__(self) -> int:
        """How many replies are awaited."""
        return len(self._futures)

    def __contains__(self, key: object) -> bool:
        """Whether a reply with this key is awaited."""
        return key in self._futures

    def waiting(self) -> list[K]:
        """The awaited keys, oldest first."""
        return list(self._futures)

    def expect(self, key: K) -> asyncio.Future[V]:
        """Register interest in the reply to ``key`` (before the request is sent)."""
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._futures[key] = future
        return future

    def resolve(self, key: K, value: V) -> bool:
        """Deliver a reply; False when nobody waits for it (late, or never asked)."""
        future = self._futures.get(key)
        if future is None or future.done():
            return False
        future.set_result(value)
        return True

    def reject(self, key: K, error: BaseException) -> bool:
        """Deliver an error reply; False when nobody waits for it."""
        future = self._futures.get(key)
        if future is None or future.done():
            return False
        future.set_exception(error)
        return True

    def resolve_where(self, match: Callable[[K], bool], value: V) -> int:
        """Deliver ``value`` to every waiter whose key matches; how many there were."""
        count = 0
        for key in [k for k in self._futures if match(k)]:
            count += self.resolve(key, value)
        return count

    def discard(self, key: K) -> None:
        """Stop waiting for ``key``."""
        self._futures.pop(key, None)

    async def wait(self, key: K, timeout: float, what: str) -> V:
        """The reply to ``key``; PrinterConnectionError (timeout) when none comes in time."""
        future = self._futures.get(key) or self.expect(key)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError as err:
            raise PrinterConnectionError(
                f"{what}: no reply within {timeout:g} s", reason=Reason.TIMEOUT
            ) from err
        finally:
            if self._futures.get(key) is future:
                del self._futures[key]

    def fail_all(self, error: PrinterError) -> None:
        """The connection is gone: every waiter gets ``error``."""
        futures, self._futures = self._futures, {}
        for future in futures.values():
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: the waiter may already have given up


class Owned[T]:
    """A session (aiohttp, httpx) used under one rule for every client.

    A session handed in is used and never closed here; without one, the
    client makes its own on first use (again if it was closed) and closes it
    with the client.
    """

    def __init__(
        self,
        given: T | None,
        make: Callable[[], Awaitable[T]],
        close: Callable[[T], Awaitable[Any]],
        closed: Callable[[T], bool],
    ) -> None:
        """Keep the given session, or how to make and close one."""
        self._given = given
        self._own: T | None = None
        self._make = make
        self._close = close
        self._closed = closed
        self._lock = asyncio.Lock()

    async def get(self) -> T:
        """The session to use now."""
        if self._given is not None:
            if self._closed(self._given):
                raise PrinterConnectionError("the HTTP session handed to the client is closed")
            return self._given
        async with self._lock:
            if self._own is None or self._closed(self._own):
                self._own = await self._make()
            return self._own

    async def close(self) -> None:
        """Close the session this client made (never one handed in)."""
        own, self._own = self._own, None
        if own is not None:
            with contextlib.suppress(Exception):
                await self._close(own)


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel ``tasks`` and wait until each has ended; whatever they raise is dropped."""
    running = [task for task in tasks if task is not None and task is not asyncio.current_task()]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
