"""Fixtures for scripts/develop's pieces: a Home Assistant served on loopback, simulators."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import contextlib
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from devtools.api import HaApi
from devtools.layout import Layout
from devtools.requirements import platform_domains
from simulator.base import SimulatedPrinter
from simulator.runner import build_parser, make_printer, plan

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """printfarm is loaded from custom_components/ as scripts/develop loads it."""


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """A develop layout whose state lives in tmp_path."""
    return Layout(repo=REPO, base=tmp_path / ".develop")


async def served(hass: HomeAssistant, aiohttp_client: Any, *domains: str) -> str:
    """Set up ``domains`` and serve hass.http on a loopback port; the base URL.

    printfarm's entity platforms are set up first too: camera and image add
    HTTP views when they load, which a started test server no longer accepts.
    """
    for domain in (*domains, *sorted(platform_domains(REPO / "custom_components" / "printfarm"))):
        assert await async_setup_component(hass, domain, {})
    client = await aiohttp_client(hass.http.app)
    return str(client.make_url("")).rstrip("/")


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain aiohttp session, as scripts/develop uses."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


class Farm:
    """Simulators started the way scripts/simulate starts them."""

    def __init__(self) -> None:
        self.printers: list[SimulatedPrinter] = []

    async def start(self, *extra: str) -> list[dict[str, Any]]:
        """One printer of each kind (or what ``extra`` asks for); their JSON lines."""
        args = build_parser().parse_args(["--speed", "5", *extra])
        lines = []
        for serial_no, (kind, index) in enumerate(plan(args)):
            printer = make_printer(kind, index, serial_no, args)
            try:
                lines.append(await printer.start())
            except (ImportError, RuntimeError, OSError) as err:
                await self.stop()
                pytest.fail(f"the {kind} simulator did not start: {err}")
            self.printers.append(printer)
        return lines

    async def stop(self) -> None:
        """Stop every started simulator."""
        for printer in reversed(self.printers):
            with contextlib.suppress(Exception):
                await printer.stop()
        self.printers.clear()


@pytest.fixture
async def farm() -> AsyncGenerator[Farm]:
    """Start simulators on demand; all stopped at the end."""
    simulated = Farm()
    yield simulated
    await simulated.stop()


@pytest.fixture
async def admin_api(
    hass: HomeAssistant,
    aiohttp_client: Any,
    hass_access_token: str,
    session: aiohttp.ClientSession,
    socket_enabled: None,
) -> HaApi:
    """An admin's REST/WebSocket client for an in-test Home Assistant with the config API."""
    base = await served(hass, aiohttp_client, "config", "websocket_api", "api")
    return HaApi(session, base, hass_access_token)
