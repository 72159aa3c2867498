"""The shared client machinery: change-only notification, confirmation, supervision."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterConnectionError,
    PrinterKind,
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.base import PrinterClient, check_temperature
from custom_components.printfarm.printers.models import PrinterInfo


class FakeClient(PrinterClient):
    """A client whose connection is driven by the test."""

    kind = PrinterKind.OCTOPRINT

    def __init__(self) -> None:
        super().__init__("127.0.0.1")
        self.opens = 0
        self.open_error: Exception | None = None
        self.drop: asyncio.Event = asyncio.Event()
        self.listening: asyncio.Event = asyncio.Event()
        self.backoff.initial = 0.001
        self.backoff.maximum = 0.002

    async def _open(self) -> None:
        self.opens += 1
        if self.open_error is not None:
            raise self.open_error
        self._info = PrinterInfo(kind=self.kind, unique_id="fake", name="Fake")
        self._update_state(connected=True, status=PrintStatus.PRINTING)

    async def _listen(self) -> None:
        self.listening.set()
        await self.drop.wait()
        self.drop.clear()
        raise PrinterConnectionError("dropped")

    async def _teardown(self) -> None:
        self.listening.clear()

    async def refresh(self) -> PrinterState:
        return self.state

    async def pause(self) -> None:
        self._require_active("pause")
        await self._confirm(lambda s: s.status is PrintStatus.PAUSED, "pause", timeout=0.05)

    async def resume(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def set_nozzle_target(self, celsius: float) -> None:
        raise NotImplementedError

    async def set_bed_target(self, celsius: float) -> None:
        raise NotImplementedError


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


@pytest.mark.parametrize("value", [-1, 301, float("nan"), "200"])
def test_temperature_validation(value: object) -> None:
    with pytest.raises(PrinterCommandError) as err:
        check_temperature(value, 300, "nozzle")  # type: ignore[arg-type]
    assert err.value.reason == "invalid_value"
