"""printfarm's own scanner: Bambu SSDP and the Elegoo probe, pointed at simulators on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterator
from datetime import timedelta
import logging
import socket
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import discovery_flow
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printfarm import discovery as scanner_module
from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.discovery import (
    DATA_SCANNER,
    PROBE_INTERVAL,
    REFIRE_AFTER,
    PrintfarmScanner,
)
from simulator.bambu.models import MODELS as SIM_MODELS
from simulator.bambu.ssdp import notify_datagram
from simulator.base import SimulatedPrinter

from .conftest import start_simulator

Flows = asyncio.Queue[dict[str, Any]]


@pytest.fixture
def flows() -> Iterator[Flows]:
    """Every discovery flow the scanner starts (the real helper still runs)."""
    started: Flows = asyncio.Queue()
    real = discovery_flow.async_create_flow

    def spy(hass: HomeAssistant, domain: str, context: Any, data: Any, **kwargs: Any) -> None:
        started.put_nowait(data)
        real(hass, domain, context, data, **kwargs)

    with patch.object(discovery_flow, "async_create_flow", spy):
        yield started


@pytest.fixture
def scanner_on(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Turn the scanner on, listening and probing only on loopback."""

    def turn_on(*, bambu: str = "127.0.0.1:0", elegoo: str = "off") -> None:
        monkeypatch.setenv("PRINTFARM_DISCOVERY", "on")
        monkeypatch.setenv("PRINTFARM_BAMBU_SSDP", bambu)
        monkeypatch.setenv("PRINTFARM_ELEGOO_PROBE", elegoo)

    return turn_on


async def setup_scanner(hass: HomeAssistant) -> PrintfarmScanner:
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    return hass.data[DATA_SCANNER]


async def next_flow(hass: HomeAssistant, flows: Flows) -> dict[str, Any]:
    """The next flow the scanner starts, once Home Assistant has run it."""
    data = await asyncio.wait_for(flows.get(), 10)
    await hass.async_block_till_done(wait_background_tasks=True)
    return data


async def finish_probe(hass: HomeAssistant) -> None:
    """Let the probe's wait for more answers run out (the clock is frozen), then settle."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)


def discovery_flows(hass: HomeAssistant) -> dict[str | None, Any]:
    """Flows in progress by unique id."""
    return {
        flow["context"].get("unique_id"): flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
    }


def announce(
    port: int,
    serial: str,
    *,
    location: str = "127.0.0.1",
    model: str = "P1S",
    name: str | None = None,
) -> None:
    """A NOTIFY as the printer sends it, to the scanner on loopback."""
    name = f"Printer {serial[-3:]}" if name is None else name
    datagram = notify_datagram(SIM_MODELS[model], serial=serial, location=location, name=name)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(datagram, ("127.0.0.1", port))


@pytest.fixture
async def bambu_announcing(
    scanner_on: Callable[..., None], hass: HomeAssistant
) -> AsyncGenerator[tuple[SimulatedPrinter, dict[str, Any], PrintfarmScanner]]:
    """The scanner listening on a loopback port and a Bambu simulator announcing to it."""
    scanner_on()
    scanner = await setup_scanner(hass)
    assert scanner.listener is not None
    try:
        sim, line = await start_simulator("bambu", ssdp_port=scanner.listener.port)
    except (ImportError, RuntimeError, OSError) as err:
        pytest.fail(f"bambu simulator cannot start: {err}")
    yield sim, line, scanner
    await sim.stop()


# ------------------------------------------------------------------- Bambu


async def test_announcing_bambu_simulator_yields_a_discovery_flow(
    hass: HomeAssistant,
    flows: Flows,
    bambu_announcing: tuple[SimulatedPrinter, dict[str, Any], PrintfarmScanner],
) -> None:
    _sim, line, _scanner = bambu_announcing
    data = await next_flow(hass, flows)
    assert data == {
        "kind": "bambu",
        "host": "127.0.0.1",
        "serial": line["serial"],
        "model": line["model"],
        "unique_id": line["serial"],
        "name": line["name"],
    }
    flow = discovery_flows(hass)[line["serial"]]
    assert flow["step_id"] == "discovery_confirm"
    assert flow["context"]["title_placeholders"] == {"name": line["name"]}


async def test_bambu_is_offered_once_until_its_host_changes_or_time_passes(
    hass: HomeAssistant,
    flows: Flows,
    scanner_on: Callable[..., None],
    freezer: FrozenDateTimeFactory,
) -> None:
    scanner_on()
    scanner = await setup_scanner(hass)
    assert scanner.listener is not None
    port = scanner.listener.port
    announce(port, "01P00A000000001")
    announce(port, "01P00A000000001")
    announce(port, "01P00A000000001")
    announce(port, "00M00A000000002", model="X1C")
    # Datagrams arrive in order: once the second printer is offered, the repeats were dropped.
    assert (await next_flow(hass, flows))["unique_id"] == "01P00A000000001"
    assert (await next_flow(hass, flows))["unique_id"] == "00M00A000000002"
    assert flows.empty()
    assert set(discovery_flows(hass)) == {"01P00A000000001", "00M00A000000002"}

    announce(port, "01P00A000000001", location="127.0.0.2")  # moved: offered again
    assert (await next_flow(hass, flows))["host"] == "127.0.0.2"

    freezer.tick(REFIRE_AFTER + timedelta(seconds=1))
    announce(port, "00M00A000000002", model="X1C")
    assert (await next_flow(hass, flows))["unique_id"] == "00M00A000000002"
    assert flows.empty()
    # Home Assistant itself keeps one flow per printer.
    assert set(discovery_flows(hass)) == {"01P00A000000001", "00M00A000000002"}


async def test_bambu_without_a_name_is_offered_without_one(
    hass: HomeAssistant, flows: Flows, scanner_on: Callable[..., None]
) -> None:
    """No made-up name: the client then names it by model and serial tail, not by model alone."""
    scanner_on()
    scanner = await setup_scanner(hass)
    assert scanner.listener is not None
    announce(scanner.listener.port, "01P00A000000003", name="")
    data = await next_flow(hass, flows)
    assert data["unique_id"] == "01P00A000000003"
    assert "name" not in data


async def test_rediscovered_bambu_updates_the_host_of_its_entry(
    hass: HomeAssistant, flows: Flows, scanner_on: Callable[..., None]
) -> None:
    scanner_on()
    scanner = await setup_scanner(hass)
    assert scanner.listener is not None
    # Added after setup and never loaded: nothing connects to the old address.
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="01P00A000000009",
        data={
            "kind": "bambu",
            "host": "192.0.2.10",
            "serial": "01P00A000000009",
            "access_code": "12345678",
        },
    )
    entry.add_to_hass(hass)
    announce(scanner.listener.port, "01P00A000000009", location="127.0.0.1")
    await next_flow(hass, flows)
    assert entry.data["host"] == "127.0.0.1"
    assert entry.data["access_code"] == "12345678"
    assert discovery_flows(hass) == {}  # already configured: no card


async def test_a_taken_port_is_logged_and_the_rest_goes_on(
    hass: HomeAssistant, scanner_on: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))  # exclusive: no SO_REUSEADDR/SO_REUSEPORT
        port = taken.getsockname()[1]
        scanner_on(bambu=f"127.0.0.1:{port}")
        with caplog.at_level(logging.INFO, logger="custom_components.printfarm"):
            scanner = await setup_scanner(hass)
    assert scanner.listener is None
    assert f"Not listening for Bambu Lab printers on UDP 127.0.0.1:{port}" in caplog.text
    assert hass.services.has_service(DOMAIN, "send_gcode")


# ------------------------------------------------------------------ Elegoo


@pytest.fixture
async def elegoo_sim() -> AsyncGenerator[tuple[SimulatedPrinter, dict[str, Any]]]:
    sim, line = await start_simulator("elegoo", start_printing=False)
    yield sim, line
    await sim.stop()


async def test_elegoo_answering_the_probe_yields_a_discovery_flow(
    hass: HomeAssistant,
    flows: Flows,
    scanner_on: Callable[..., None],
    elegoo_sim: tuple[SimulatedPrinter, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    freezer: FrozenDateTimeFactory,
) -> None:
    _sim, line = elegoo_sim
    monkeypatch.setattr(scanner_module, "PROBE_TIMEOUT", 0.2)
    scanner_on(bambu="off", elegoo=f"127.0.0.1:{line['extra']['discovery_port']}")
    scanner = await setup_scanner(hass)
    assert scanner.listener is None
    data = await asyncio.wait_for(flows.get(), 10)
    await finish_probe(hass)
    mainboard_id = line["extra"]["mainboard_id"]
    assert data == {
        "kind": "elegoo",
        "host": "127.0.0.1",
        "port": 3030,
        "serial": mainboard_id,  # the one discovered-printer shape carries it for every kind
        "model": "Centauri Carbon",
        "unique_id": mainboard_id,
        "name": line["name"],
    }
    assert discovery_flows(hass)[mainboard_id]["step_id"] == "discovery_confirm"

    # The next probe (5 minutes on) finds it again at the same address: not offered again.
    answers: asyncio.Queue[str] = asyncio.Queue()
    real_offer = scanner._async_offer

    def offer(unique_id: str, data: dict[str, Any]) -> None:
        answers.put_nowait(unique_id)
        real_offer(unique_id, data)

    monkeypatch.setattr(scanner, "_async_offer", offer)
    freezer.tick(PROBE_INTERVAL)
    async_fire_time_changed(hass)
    assert await asyncio.wait_for(answers.get(), 10) == mainboard_id
    await finish_probe(hass)
    assert flows.empty()
    # Long after, the probe offers it again; Home Assistant keeps the one flow.
    freezer.tick(REFIRE_AFTER)
    async_fire_time_changed(hass)
    assert (await asyncio.wait_for(flows.get(), 10))["unique_id"] == mainboard_id
    await finish_probe(hass)
    assert list(discovery_flows(hass)) == [mainboard_id]


async def test_elegoo_probe_skips_printers_that_are_not_sdcp_v3(
    hass: HomeAssistant, flows: Flows, scanner_on: Callable[..., None]
) -> None:
    loop = asyncio.get_running_loop()
    probed = asyncio.Event()
    v1_reply = (
        b'{"Id": "abc", "Data": {"Name": "Old Mars", "MachineName": "Mars 3", '
        b'"BrandName": "ELEGOO", "MainboardIP": "127.0.0.1", '
        b'"MainboardID": "0000aaaa", "ProtocolVersion": "V1.0.0"}}'
    )

    class V1Printer(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.DatagramTransport)
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            self.transport.sendto(v1_reply, addr)
            probed.set()

    transport, _ = await loop.create_datagram_endpoint(
        V1Printer, local_addr=("127.0.0.1", 0), family=socket.AF_INET
    )
    try:
        port = transport.get_extra_info("sockname")[1]
        with patch.object(scanner_module, "PROBE_TIMEOUT", 0.2):
            scanner_on(bambu="off", elegoo=f"127.0.0.1:{port}")
            await setup_scanner(hass)
            await asyncio.wait_for(probed.wait(), 10)
            await hass.async_block_till_done(wait_background_tasks=True)
    finally:
        transport.close()
    assert flows.empty()


# --------------------------------------------------------------- lifecycle


async def test_stop_leaves_no_socket_timer_or_task(
    hass: HomeAssistant,
    flows: Flows,
    scanner_on: Callable[..., None],
    elegoo_sim: tuple[SimulatedPrinter, dict[str, Any]],
    freezer: FrozenDateTimeFactory,
) -> None:
    _sim, line = elegoo_sim
    scanner_on(elegoo=f"127.0.0.1:{line['extra']['discovery_port']}")
    listener = (await setup_scanner(hass)).listener
    assert listener is not None
    port = listener.port
    await asyncio.wait_for(flows.get(), 10)  # the probe is still waiting for more answers

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert not listener.listening
    assert hass.data[DATA_SCANNER].listener is None
    # The socket is closed: the port can be bound exclusively again.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))
    # No probe task, and the timer is gone: time passing starts no new probe.
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "printfarm Elegoo probe"]
    freezer.tick(REFIRE_AFTER + PROBE_INTERVAL)
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert flows.empty()
