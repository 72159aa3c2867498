"""PrusaLink goes through Home Assistant's shared httpx client and leaves it open."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client
import httpx
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import DOMAIN

from .conftest import entry_data, start_simulator


async def test_prusalink_polls_through_the_shared_httpx_client(hass: HomeAssistant) -> None:
    sim, line = await start_simulator("prusalink")
    shared = get_async_client(hass)
    seen: list[httpx.URL] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.url)

    shared.event_hooks = {"request": [record], "response": []}
    try:
        entry = MockConfigEntry(domain=DOMAIN, data=entry_data(line), title=line["name"])
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert {url.path for url in seen if url.port == line["port"]} >= {
            "/api/version",
            "/api/v1/info",
            "/api/v1/status",
        }

        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        assert not shared.is_closed
        assert entry.state is ConfigEntryState.NOT_LOADED
    finally:
        await sim.stop()
