"""The shared client machinery: change-only notification, commands, supervision, staleness."""

from __future__ import annotations

import asyncio
import logging

import pytest

from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterKind,
    PrinterProtocolError,
    PrinterState,
    PrintStatus,
    Reason,
)
from custom_components.printfarm.printers.base import PrinterClient
from custom_components.printfarm.printers.commands import (
    PAUSE,
    Command,
    check_temperature,
)
from custom_components.printfarm.printers.engine import Ack
from custom_components.printfarm.printers.models import PrinterInfo
from custom_components.printfarm.printers.octoprint.descriptor import DESCRIPTOR


class FakeClient(PrinterClient):
    """A client whose connection is driven by the test."""

    kind = PrinterKind.OCTOPRINT
    descriptor = DESCRIPTOR

    def __init__(self, *, poll_interval: float = 60.0, stale_after: float | None = None) -> None:
        super().__init__("127.0.0.1", poll_interval=poll_interval, stale_after=stale_after)
        self.opens = 0
        self.open_error: BaseException | None = None
        self.listen_error: BaseException | None = None
        self.teardown_error: BaseException | None = None
        self.probe_delay = 0.0
        self.probes = 0
        self.probed = asyncio.Event()
        self.opened_again = asyncio.Event()
        self.drop: asyncio.Event = asyncio.Event()
        self.listening: asyncio.Event = asyncio.Event()
        self.backoff.initial = 0.001
        self.backoff.maximum = 0.002

    async def _open(self) -> None:
        self.opens += 1
        if self.opens >= 4:
            self.opened_again.set()
        if self.open_error is not None:
            raise self.open_error
        self._info = PrinterInfo(kind=self.kind, unique_id="fake", name="Fake")
        self._update_state(connected=True, status=PrintStatus.PRINTING)

    async def _listen(self) -> None:
        self.listening.set()
        await self.drop.wait()
        self.drop.clear()
        if self.listen_error is not None:
            raise self.listen_error
        raise PrinterConnectionError("dropped")

    async def _probe(self) -> None:
        self.probes += 1
        self.probed.set()
        await asyncio.sleep(self.probe_delay)

    async def _teardown(self) -> None:
        self.listening.clear()
        if self.teardown_error is not None:
            raise self.teardown_error

    async def refresh(self) -> PrinterState:
        return self.state

    async def pause(self) -> None:
        command = Command(name="pause", needs=PAUSE.needs, confirm=PAUSE.confirm, timeout=0.05)
        await self._run(command, _nothing)

    async def resume(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError


async def _nothing() -> Ack:
    return None


async def test_listeners_only_hear_changes() -> None:
    client = FakeClient()
    seen: list[PrinterState] = []
    remove = client.add_listener(seen.append)
    assert client._update_state(progress=10.0)
    assert not client._update_state(progress=10.0)
    remove()
    client._update_state(progress=20.0)
    assert [s.progress for s in seen] == [10.0]


async def test_unconfirmed_command_raises_not_confirmed() -> None:
    client = FakeClient()
    await client.connect()
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_confirmed"
    await client.close()


async def test_command_refused_when_idle_or_offline() -> None:
    client = FakeClient()
    with pytest.raises(PrinterConnectionError):
        await client.pause()
    client._update_state(connected=True, status=PrintStatus.IDLE)
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"
    client._update_state(control_available=False, control_unavailable_reason=Reason.PRINTER_OFFLINE)
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason is Reason.PRINTER_OFFLINE  # control is checked before the job


async def test_idempotent_command_sends_nothing_when_already_done() -> None:
    client = FakeClient()
    client._update_state(connected=True, status=PrintStatus.PAUSED)
    sent: list[str] = []

    async def send() -> Ack:
        sent.append("pause")
        return None

    await client._run(PAUSE, send)
    assert sent == []


async def test_refusing_acknowledgement_raises_before_the_state_times_out() -> None:
    client = FakeClient()
    client._update_state(connected=True, status=PrintStatus.PRINTING)

    async def refuse() -> None:
        raise PrinterCommandError("no", reason=Reason.BUSY)

    async def send() -> Ack:
        return refuse()

    with pytest.raises(PrinterCommandError) as err:
        await client._run(PAUSE, send)
    assert err.value.reason is Reason.BUSY
    assert client._waiters == []


async def test_supervisor_reconnects_and_marks_offline_between() -> None:
    client = FakeClient()
    statuses: list[PrintStatus] = []
    client.add_listener(lambda s: statuses.append(s.status))
    await client.connect()
    await client.listening.wait()
    client.drop.set()
    await client.wait_for_state(lambda s: s.status is PrintStatus.OFFLINE, 1)
    await client.wait_for_state(lambda s: s.connected, 1)
    assert client.opens == 2
    assert statuses == [PrintStatus.PRINTING, PrintStatus.OFFLINE, PrintStatus.PRINTING]
    await client.close()
    assert client.state.status is PrintStatus.OFFLINE


async def test_supervisor_stops_on_auth_failure() -> None:
    client = FakeClient()
    await client.connect()
    await client.listening.wait()
    client.open_error = PrinterAuthError("bad access code")
    client.drop.set()
    await client.wait_for_state(lambda s: s.error == "bad access code", 1)
    assert client._supervisor is not None
    await asyncio.wait_for(client._supervisor, 1)
    assert isinstance(client.last_error, PrinterAuthError)
    await client.close()


@pytest.mark.parametrize(
    "error",
    [OverflowError("int too large"), RecursionError(), IndexError("0"), ValueError("x")],
)
async def test_supervisor_survives_any_exception_and_comes_back(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a PrinterError, from listen, teardown and the next open: still reconnects."""
    client = FakeClient()
    await client.connect()
    await client.listening.wait()
    client.listen_error = error
    client.teardown_error = error
    client.open_error = error
    caplog.set_level(logging.DEBUG)
    client.drop.set()
    await client.wait_for_state(lambda s: not s.connected, 1)
    await asyncio.wait_for(client.opened_again.wait(), 1)  # the failing open is retried
    client.open_error = client.listen_error = client.teardown_error = None
    await client.wait_for_state(lambda s: s.connected, 1)
    assert isinstance(client.last_error, PrinterProtocolError)
    full = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(full) == 1  # logged in full once, with the printer, then briefly
    assert "127.0.0.1" in full[0].getMessage()
    assert type(error).__name__ in full[0].getMessage()
    await client.close()


async def test_connect_raises_only_typed_errors() -> None:
    client = FakeClient()
    client.open_error = OverflowError("int too large to convert to float")
    with pytest.raises(PrinterProtocolError) as err:
        await client.connect()
    assert isinstance(err.value.__cause__, OverflowError)
    assert not client.state.connected


async def test_close_never_raises() -> None:
    client = FakeClient()
    await client.connect()
    client.teardown_error = RuntimeError("socket already gone")
    await client.close()
    assert client.state.status is PrintStatus.OFFLINE


async def test_stale_state_goes_offline_and_reconnects() -> None:
    """Answers that come too late are not a healthy printer: offline, then a new connection."""
    client = FakeClient(poll_interval=0.02, stale_after=0.2)
    client.request_timeout = 0.05
    await client.connect()
    client.probe_delay = 1.0  # every probe now times out
    state = await client.wait_for_state(lambda s: not s.connected, 2)
    assert state.status is PrintStatus.OFFLINE
    assert isinstance(client.last_error, PrinterConnectionError)
    assert client.last_error.reason is Reason.STALE
    client.probe_delay = 0.0
    await client.wait_for_state(lambda s: s.connected, 2)
    assert client.opens >= 2
    await client.close()


async def test_heartbeat_probes_on_the_cadence_and_at_once_after_a_command() -> None:
    client = FakeClient(poll_interval=60.0)
    await client.connect()
    await client.listening.wait()
    assert client.probes == 0
    client._after_command()
    await asyncio.wait_for(client.probed.wait(), 2)
    await client.close()


@pytest.mark.parametrize("value", [-1, 301, float("nan"), "200"])
def test_temperature_validation(value: object) -> None:
    with pytest.raises(PrinterCommandError) as err:
        check_temperature(value, 300, "nozzle")  # type: ignore[arg-type]
    assert err.value.reason == "invalid_value"


def test_every_error_has_a_reason() -> None:
    assert PrinterError("x").reason is Reason.PROTOCOL
    assert PrinterConnectionError("x").reason is Reason.OFFLINE
    assert PrinterAuthError("x").reason is Reason.INVALID_AUTH
    assert PrinterCommandError("x").reason is Reason.REJECTED
    assert PrinterCommandError("x", reason=Reason.BUSY).reason is Reason.BUSY
