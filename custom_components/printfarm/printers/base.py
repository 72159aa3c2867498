"""The contract every protocol client fulfils, and the machinery they share.

A client is used like this::

    async with OctoPrintClient("10.0.0.5", api_key=key, session=session) as client:
        client.add_listener(print)          # called with each new PrinterState
        await client.pause()                # returns once the printer reports paused

``connect()`` makes the first connection inline, so bad credentials or an
unreachable host raise at once. After that a supervisor task keeps the
connection alive: it runs ``_listen()`` (push loop or poll loop), and when the
connection drops it marks the printer offline and reconnects with capped
backoff. Authentication failures stop the reconnect loop (retrying a wrong
access code only locks users out) and are reported through ``last_error``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Callable
import contextlib
import dataclasses
import logging
import math
from types import TracebackType
from typing import Any, ClassVar, Self

from .backoff import Backoff
from .exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
)
from .models import (
    ACTIVE_STATUSES,
    CameraInfo,
    CameraKind,
    Capabilities,
    FanKind,
    PrinterInfo,
    PrinterKind,
    PrinterNotice,
    PrinterState,
    PrintStatus,
)

_LOGGER = logging.getLogger(__name__)

#: Largest single message a client accepts from a printer (JSON, MQTT payload).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: Largest camera frame or thumbnail accepted.
MAX_IMAGE_BYTES = 16 * 1024 * 1024
#: How long a command waits for the printer's state to confirm it.
COMMAND_CONFIRM_TIMEOUT = 20.0

StateListener = Callable[[PrinterState], None]
StatePredicate = Callable[[PrinterState], bool]


class PrinterClient(ABC):
    """Base class of the five protocol clients."""

    kind: ClassVar[PrinterKind]

    def __init__(self, host: str, *, request_timeout: float = 10.0) -> None:
        """Store the host; subclasses add their own credentials and session."""
        self.host = host
        self.request_timeout = request_timeout
        self._state = PrinterState()
        self._info: PrinterInfo | None = None
        self._capabilities = Capabilities()
        self._camera = CameraInfo()
        self._listeners: list[StateListener] = []
        self._waiters: list[tuple[StatePredicate, asyncio.Future[PrinterState]]] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.last_error: PrinterError | None = None
        self.backoff = Backoff()

    # ------------------------------------------------------------------ state

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

    def _update_state(self, **changes: Any) -> bool:
        """Apply changes; notify only if the state really changed."""
        return self._set_state(dataclasses.replace(self._state, **changes))

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

    async def wait_for_state(
        self, predicate: StatePredicate, timeout: float = COMMAND_CONFIRM_TIMEOUT
    ) -> PrinterState:
        """Wait until the printer reports a state matching ``predicate``."""
        if predicate(self._state):
            return self._state
        future: asyncio.Future[PrinterState] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._waiters.remove(entry)

    async def _confirm(
        self, predicate: StatePredicate, what: str, timeout: float | None = None
    ) -> None:
        """Wait for the state that confirms a command, or raise ``not_confirmed``."""
        try:
            await self.wait_for_state(
                predicate, COMMAND_CONFIRM_TIMEOUT if timeout is None else timeout
            )
        except TimeoutError as err:
            raise PrinterCommandError(
                f"{what}: the printer did not confirm the command (status is {self._state.status})",
                reason="not_confirmed",
            ) from err

    def _require_active(self, what: str) -> None:
        """Refuse pause/resume/stop when no job is under way."""
        if not self._state.connected:
            raise PrinterConnectionError(f"{what}: printer {self.host} is offline")
        if self._state.status not in ACTIVE_STATUSES:
            raise PrinterCommandError(
                f"{what}: no job is running (status is {self._state.status})", reason="not_printing"
            )

    # -------------------------------------------------------------- lifecycle

    async def connect(self) -> None:
        """Connect, authenticate and read the full state; then keep it live.

        Raises PrinterConnectionError, PrinterAuthError or PrinterProtocolError
        when the first connection fails.
        """
        self._closing = False
        await self._open()
        self.backoff.reset()
        self._supervisor = asyncio.create_task(
            self._supervise(), name=f"printfarm {self.kind} {self.host}"
        )

    async def close(self) -> None:
        """Stop the supervisor and close every connection this client opened."""
        self._closing = True
        task, self._supervisor = self._supervisor, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._teardown()
        self._mark_offline()

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

    async def _supervise(self) -> None:
        """Run the listen loop; reconnect with capped backoff when it ends."""
        first = True
        while not self._closing:
            if not first:
                try:
                    await self._open()
                except PrinterAuthError as err:
                    self.last_error = err
                    self._mark_offline(str(err))
                    _LOGGER.warning("Printer %s refused the credentials; not retrying", self.host)
                    return
                except PrinterError as err:
                    self.last_error = err
                    self._mark_offline()
                    delay = self.backoff.next_delay()
                    _LOGGER.debug(
                        "Reconnect to %s failed (%s); next try in %.1f s", self.host, err, delay
                    )
                    await asyncio.sleep(delay)
                    continue
            first = False
            try:
                await self._listen()
            except PrinterAuthError as err:
                self.last_error = err
                self._mark_offline(str(err))
                await self._teardown()
                return
            except PrinterError as err:
                self.last_error = err
                _LOGGER.debug("Connection to %s lost: %s", self.host, err)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a bug must not kill the supervisor for good
                _LOGGER.exception("Unexpected error talking to %s", self.host)
                self.last_error = PrinterError(str(err))
            await self._teardown()
            if not self._closing:
                self._mark_offline()
                await asyncio.sleep(self.backoff.next_delay())

    # ------------------------------------------------------- protocol hooks

    @abstractmethod
    async def _open(self) -> None:
        """Open the connection, authenticate and load info, capabilities and full state.

        Must set ``self._info`` and a connected state, and raise one of the
        typed errors on failure (never leave half-open resources behind).
        """

    @abstractmethod
    async def _listen(self) -> None:
        """Consume pushes (or poll) until the connection is lost; then raise or return.

        Push clients must enforce a silence watchdog: no message within the
        protocol's keep-alive window means the connection is dead.
        Call ``self.backoff.reset()`` once the connection has proved healthy.
        """

    @abstractmethod
    async def _teardown(self) -> None:
        """Close the connection opened by ``_open``; idempotent."""

    # --------------------------------------------------------------- commands

    @abstractmethod
    async def refresh(self) -> PrinterState:
        """Ask the printer for its full state now and return it."""

    @abstractmethod
    async def pause(self) -> None:
        """Pause the job; returns when the printer reports paused."""

    @abstractmethod
    async def resume(self) -> None:
        """Resume the job; returns when the printer reports printing again."""

    @abstractmethod
    async def stop(self) -> None:
        """Cancel the job; returns when the printer reports it stopped."""

    @abstractmethod
    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target temperature."""

    @abstractmethod
    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target temperature."""

    async def set_light(self, on: bool) -> None:
        """Switch the chamber light."""
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} has no controllable light")

    async def send_gcode(self, gcode: str) -> None:
        """Send raw G-code."""
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} does not accept G-code")

    async def set_speed_factor(self, percent: int) -> None:
        """Set the feed-rate override in percent."""
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} has no speed factor")

    async def set_speed_preset(self, preset: str) -> None:
        """Choose one of ``capabilities.speed_presets``."""
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} has no speed presets")

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set one of ``capabilities.controllable_fans`` to ``percent`` (0-100).

        Returns once the printer reports the new speed, where it reports fan
        speeds at all. Raises PrinterNotSupportedError for a fan it cannot
        set and PrinterCommandError ``invalid_value`` for a bad percentage.
        """
        self._check_fan(fan, percent)
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} has no controllable fan")

    def _check_fan(self, fan: FanKind | str, percent: int) -> FanKind:
        """Validate a fan request before anything is sent; returns the fan."""
        try:
            kind = FanKind(fan)
        except ValueError:
            raise PrinterNotSupportedError(f"{self.host}: there is no fan {fan!r}") from None
        if kind not in self._capabilities.controllable_fans:
            raise PrinterNotSupportedError(
                f"{self.kind} printer {self.host} cannot set its {kind.value} fan"
            )
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise PrinterCommandError(
                f"{kind.value} fan: {percent!r} is not a speed of 0-100 %", reason="invalid_value"
            )
        return kind

    async def emergency_stop(self) -> None:
        """Halt the machine at once (Klipper)."""
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} has no emergency stop")

    async def firmware_restart(self) -> None:
        """Restart the firmware (Klipper)."""
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} cannot restart firmware")

    async def open_stream(self) -> str | None:
        """Make the camera's MJPEG stream available; return its URL (None: no stream).

        Call ``close_stream()`` when the viewer leaves: some printers serve a
        single stream that also counts against their connection limit.
        """
        return self._camera.stream_url if self._camera.kind is CameraKind.MJPEG else None

    async def close_stream(self) -> None:  # noqa: B027 - optional hook, nothing to release
        """Release what ``open_stream()`` took."""

    async def snapshot(self) -> bytes:
        """Return one JPEG frame from the printer's camera."""
        raise PrinterNotSupportedError(f"{self.kind} printer {self.host} has no camera")

    async def thumbnail(self) -> bytes | None:
        """Return the current job's thumbnail (PNG or JPEG), or None."""
        return None


def fan_pwm(percent: int) -> int:
    """A fan speed in percent as the 0-255 ``S`` value of ``M106``."""
    return round(percent * 255 / 100)


def check_temperature(celsius: float, maximum: float, what: str) -> float:
    """Validate a target temperature before it is sent to a printer."""
    if not isinstance(celsius, int | float) or math.isnan(celsius):
        raise PrinterCommandError(
            f"{what}: {celsius!r} is not a temperature", reason="invalid_value"
        )
    if celsius < 0 or celsius > maximum:
        raise PrinterCommandError(
            f"{what}: {celsius} °C is outside 0-{maximum:g} °C", reason="invalid_value"
        )
    return float(celsius)
