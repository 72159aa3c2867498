"""Config flow errors beyond cannot_connect/invalid_auth: each shows its own error and recovers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.printfarm import config_flow
from custom_components.printfarm.forms import fields
from custom_components.printfarm.printers import PrinterKind
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from simulator.base import SimulatedPrinter
from simulator.elegoo import ElegooSimulator

from .conftest import entry_data, start_simulator
from .test_config_flow import _start, form_input


async def _configure(hass: HomeAssistant, flow_id: str, kind: str, line: dict[str, Any]) -> Any:
    """Submit the kind's form with what the simulator's line says."""
    return await hass.config_entries.flow.async_configure(
        flow_id, form_input(kind, entry_data(line))
    )


async def _finish(hass: HomeAssistant, result: Any, kind: str) -> None:
    """The flow ended in a working entry of ``kind``; unload it."""
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"]["kind"] == kind
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.fixture
async def sims() -> AsyncGenerator[dict[str, tuple[SimulatedPrinter, dict[str, Any]]]]:
    """Simulators started on demand, stopped after the test."""
    started: dict[str, tuple[SimulatedPrinter, dict[str, Any]]] = {}
    yield started
    for sim, _line in started.values():
        await sim.stop()


async def _sim(
    sims: dict[str, tuple[SimulatedPrinter, dict[str, Any]]], name: str, kind: str, **extra: Any
) -> dict[str, Any]:
    sims[name] = await start_simulator(kind, **extra)
    return sims[name][1]


@pytest.mark.parametrize(
    ("kind", "other_kind", "other_extra", "error"),
    [
        # A Moonraker form pointed at an OctoPrint server: not this kind of printer.
        ("moonraker", "octoprint", {}, "not_a_printer"),
        # An OctoPrint form pointed at Prusa-Link (which speaks OctoPrint's API with a key).
        ("octoprint", "prusalink", {"api_key": "PRUSALINKKEY0001"}, "not_octoprint"),
        # PrusaLink firmware without the v1 API.
        ("prusalink", "prusalink", {"no_v1": True}, "firmware_too_old"),
    ],
)
async def test_kind_specific_error_then_recovery(
    hass: HomeAssistant,
    sims: dict[str, tuple[SimulatedPrinter, dict[str, Any]]],
    kind: str,
    other_kind: str,
    other_extra: dict[str, Any],
    error: str,
) -> None:
    wrong_line = await _sim(sims, "wrong", other_kind, **other_extra)
    right_line = await _sim(sims, "right", kind)
    # The right printer's form, aimed at the other server with that server's credentials.
    asked = {field.key for field in fields(PrinterKind(kind))}
    wrong = {**entry_data(right_line), "port": wrong_line["port"]}
    wrong.update({k: v for k, v in entry_data(wrong_line).items() if k in asked - {"host"}})

    result = await _start(hass, kind)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, wrong)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    assert result["errors"] == {"base": error}

    result = await _configure(hass, result["flow_id"], kind, right_line)
    await _finish(hass, result, kind)


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_unexpected_error_shows_unknown_then_recovery(
    hass: HomeAssistant,
    kind: str,
    simulated: tuple[SimulatedPrinter, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _sim_, line = simulated
    result = await _start(hass, kind)
    with patch.object(MoonrakerClient, "connect", side_effect=RuntimeError("a bug")):
        result = await _configure(hass, result["flow_id"], kind, line)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while adding a printer" in caplog.text

    result = await _configure(hass, result["flow_id"], kind, line)
    await _finish(hass, result, kind)


@pytest.mark.parametrize("kind", ["elegoo"])
async def test_silent_printer_times_out_as_cannot_connect_then_recovery(
    hass: HomeAssistant, kind: str, simulated: tuple[SimulatedPrinter, dict[str, Any]]
) -> None:
    """A host that accepts the connection but never answers: the form says cannot_connect."""
    _sim_, line = simulated
    accepted = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        accepted.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    silent_port = server.sockets[0].getsockname()[1]
    try:
        result = await _start(hass, kind)
        with patch.object(config_flow, "CONNECT_TIMEOUT", 0.2):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], form_input(kind, {**entry_data(line), "port": silent_port})
            )
        assert accepted.is_set()
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "cannot_connect"}
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()

    result = await _configure(hass, result["flow_id"], kind, line)
    await _finish(hass, result, kind)


@pytest.mark.parametrize("kind", ["elegoo"])
async def test_full_elegoo_shows_connection_slots_then_recovery(
    hass: HomeAssistant, sims: dict[str, tuple[SimulatedPrinter, dict[str, Any]]], kind: str
) -> None:
    """An Elegoo printer serving its maximum of apps gets its own error, not cannot_connect."""
    line = await _sim(sims, "full", kind, max_clients=0)
    result = await _start(hass, kind)
    result = await _configure(hass, result["flow_id"], kind, line)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "connection_slots"}

    printer = sims["full"][0]
    assert isinstance(printer, ElegooSimulator)
    printer.max_clients = 4  # the user closed the slicer
    result = await _configure(hass, result["flow_id"], kind, line)
    await _finish(hass, result, kind)
