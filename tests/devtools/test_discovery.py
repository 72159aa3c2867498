"""scripts/develop's discovery wiring: loopback only, and the user flow still adds every printer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import discovery_flow
from homeassistant.setup import async_setup_component
import pytest

from custom_components.printfarm import discovery as scanner_module
from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.discovery import DiscoveryConfig
from devtools.api import HaApi
from devtools.discovery import elegoo_targets, free_udp_port, hass_env, simulate_args
from devtools.flows import add_printers
from simulator.runner import build_parser, make_printer

from .conftest import Farm

ELEGOO_LINE = {"kind": "elegoo", "host": "127.0.0.1", "port": 1, "extra": {"discovery_port": 4000}}
BAMBU_LINE = {"kind": "bambu", "host": "127.0.0.1", "port": 2, "extra": {"ca_file": "x"}}


def test_hass_env_points_the_scanner_at_loopback_only() -> None:
    env = hass_env(
        [BAMBU_LINE, ELEGOO_LINE, {**ELEGOO_LINE, "extra": {"discovery_port": 4001}}], 5000
    )
    assert env == {
        "PRINTFARM_DISCOVERY": "on",
        "PRINTFARM_BAMBU_SSDP": "127.0.0.1:5000",
        "PRINTFARM_ELEGOO_PROBE": "127.0.0.1:4000,127.0.0.1:4001",
    }
    # What the integration makes of it: no wildcard listener, no broadcast.
    config = DiscoveryConfig.from_env(env)
    assert config.bambu_listen == ("127.0.0.1", 5000)
    assert config.elegoo_targets == (("127.0.0.1", 4000), ("127.0.0.1", 4001))


def test_without_elegoo_simulators_the_probe_is_off() -> None:
    env = hass_env([BAMBU_LINE], 5000)
    assert env["PRINTFARM_ELEGOO_PROBE"] == "off"
    assert elegoo_targets([BAMBU_LINE, {"kind": "elegoo", "extra": {}}]) == []
    assert DiscoveryConfig.from_env(env).elegoo_targets == ()


def test_free_udp_port_is_bindable_on_loopback() -> None:
    port = free_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_simulate_args_make_the_bambu_simulators_announce() -> None:
    args = build_parser().parse_args(["--bambu", "2", "--moonraker", "1", *simulate_args(5000)])
    bambu = make_printer("bambu", 0, 0, args)
    assert bambu.options.extra["ssdp_port"] == 5000
    assert "ssdp_port" not in make_printer("moonraker", 0, 1, args).options.extra
    # Without the option nothing is announced.
    plain = build_parser().parse_args(["--bambu", "1"])
    assert "ssdp_port" not in make_printer("bambu", 0, 0, plain).options.extra


@pytest.fixture
def offered() -> Iterator[asyncio.Queue[dict[str, Any]]]:
    """Every discovery flow the scanner starts."""
    started: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    real = discovery_flow.async_create_flow

    def spy(hass: HomeAssistant, domain: str, context: Any, data: Any, **kwargs: Any) -> None:
        started.put_nowait(data)
        real(hass, domain, context, data, **kwargs)

    with patch.object(discovery_flow, "async_create_flow", spy):
        yield started


async def test_develop_order_discovered_printers_are_still_added_by_the_user_flow(
    hass: HomeAssistant,
    admin_api: HaApi,
    farm: Farm,
    offered: asyncio.Queue[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As in scripts/develop: the farm announces itself before the printers are added."""
    ssdp_port = free_udp_port()
    lines = await farm.start("--bambu", "1", "--elegoo", "1", *simulate_args(ssdp_port))
    for key, value in hass_env(lines, ssdp_port).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(scanner_module, "PROBE_TIMEOUT", 0.2)
    assert await async_setup_component(hass, DOMAIN, {})
    found = {(await asyncio.wait_for(offered.get(), 15))["unique_id"] for _ in lines}
    await hass.async_block_till_done(wait_background_tasks=True)
    assert found == {line["serial"] for line in lines}
    # Two "Discovered" cards wait for the user ...
    progress = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert {flow["context"].get("unique_id") for flow in progress} == found

    # ... and do not stop develop from adding both printers through the user flow.
    results, _removed = await add_printers(admin_api, lines)
    await hass.async_block_till_done()
    assert [a.outcome for a in results] == ["added", "added"]
    for added in results:
        entry = hass.config_entries.async_get_entry(added.entry_id or "")
        assert entry is not None
        assert entry.state is ConfigEntryState.LOADED
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
