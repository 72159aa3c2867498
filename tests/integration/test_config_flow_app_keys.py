"""OctoPrint's App Keys flow: a progress step while the user clicks Allow, API key as fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.printfarm import config_flow
from custom_components.printfarm.printers.octoprint import OctoPrintClient, appkeys
from simulator.octoprint import OctoPrintSimulator

from .conftest import entry_data, start_simulator
from .test_config_flow import _start

KIND = "octoprint"


@pytest.fixture(autouse=True)
def fast_polls() -> Any:
    """Poll OctoPrint for the decision without the real one-second pause."""
    with patch.object(appkeys, "APP_KEY_POLL_INTERVAL", 0.01):
        yield


@pytest.fixture(autouse=True)
def requests() -> Any:
    """App tokens of the key requests OctoPrint has accepted, in order (a spy, not a mock)."""
    tokens: asyncio.Queue[str] = asyncio.Queue()
    original = OctoPrintClient.request_app_key

    async def spy(self: OctoPrintClient, app_name: str, user: str | None = None) -> str:
        token = await original(self, app_name, user)
        tokens.put_nowait(token)
        return token

    with patch.object(OctoPrintClient, "request_app_key", spy):
        yield tokens


async def _octoprint(**extra: Any) -> tuple[OctoPrintSimulator, dict[str, Any]]:
    sim, line = await start_simulator(KIND, **extra)
    assert isinstance(sim, OctoPrintSimulator)
    return sim, line


@pytest.fixture
async def octoprint() -> AsyncGenerator[tuple[OctoPrintSimulator, dict[str, Any]]]:
    """An OctoPrint simulator that waits for the user's decision."""
    sim, line = await _octoprint()
    yield sim, line
    await sim.stop()


def _without_key(line: dict[str, Any]) -> dict[str, Any]:
    """The OctoPrint form with the API key left empty."""
    return {"host": line["host"], "port": line["port"]}


async def _pending_request(sim: OctoPrintSimulator, requests: asyncio.Queue[str]) -> dict[str, Any]:
    """Wait until printfarm's next key request has reached OctoPrint; OctoPrint's record of it."""
    async with asyncio.timeout(10):
        token = await requests.get()
    return sim._pending[token]


async def _ask_for_key(hass: HomeAssistant, line: dict[str, Any]) -> str:
    """Start the OctoPrint flow without a key; returns the flow id in its progress step."""
    result = await _start(hass, KIND)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _without_key(line))
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "app_key"
    assert result["description_placeholders"] == {"host": line["host"]}
    return str(result["flow_id"])


async def test_approved_key_creates_the_entry(hass: HomeAssistant) -> None:
    sim, line = await _octoprint(appkey_auto_approve=1)
    try:
        flow_id = await _ask_for_key(hass, line)
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_configure(flow_id)
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        assert result["data"]["api_key"] in sim.app_keys
        assert sim.app_keys[result["data"]["api_key"]] == config_flow.APP_NAME
        assert result["result"].unique_id == sim.uuid
        await hass.async_block_till_done()
        assert await hass.config_entries.async_unload(result["result"].entry_id)
    finally:
        await sim.stop()


async def test_denied_request_offers_the_form_again_then_api_key(
    hass: HomeAssistant,
    octoprint: tuple[OctoPrintSimulator, dict[str, Any]],
    requests: asyncio.Queue[str],
) -> None:
    sim, line = octoprint
    flow_id = await _ask_for_key(hass, line)
    pending = await _pending_request(sim, requests)
    assert pending["app_id"] == config_flow.APP_NAME
    assert sim.decide(pending["user_token"], approve=False)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == KIND
    assert result["errors"] == {"base": "app_key_denied"}
    assert not sim.app_keys

    # The user enters an API key instead.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**_without_key(line), "api_key": entry_data(line)["api_key"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["api_key"] == line["api_key"]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_no_decision_in_time_expires_and_a_second_request_succeeds(
    hass: HomeAssistant,
    octoprint: tuple[OctoPrintSimulator, dict[str, Any]],
    requests: asyncio.Queue[str],
) -> None:
    sim, line = octoprint
    with patch.object(appkeys, "APP_KEY_TIMEOUT", 0.1):
        flow_id = await _ask_for_key(hass, line)
        await _pending_request(sim, requests)
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "app_key_denied"}

    # Asking again starts a new request, which the user now approves.
    result = await hass.config_entries.flow.async_configure(flow_id, _without_key(line))
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    pending = await _pending_request(sim, requests)
    assert sim.decide(pending["user_token"], approve=True)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["api_key"] in sim.app_keys
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_unreachable_octoprint_falls_back_to_api_key(
    hass: HomeAssistant, octoprint: tuple[OctoPrintSimulator, dict[str, Any]]
) -> None:
    _sim, line = octoprint
    flow_id = await _ask_for_key(hass, {**line, "port": 1})
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == KIND
    assert result["errors"] == {"base": "app_key_failed"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {**_without_key(line), "api_key": line["api_key"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_rate_limited_request_falls_back_to_api_key(
    hass: HomeAssistant, requests: asyncio.Queue[str]
) -> None:
    sim, line = await _octoprint(appkey_rate_limit=True)
    try:
        # OctoPrint allows three requests a minute; a fourth is refused.
        for _ in range(3):
            flow_id = await _ask_for_key(hass, line)
            await _pending_request(sim, requests)
            hass.config_entries.flow.async_abort(flow_id)
        flow_id = await _ask_for_key(hass, line)
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_configure(flow_id)
        assert result["errors"] == {"base": "app_key_failed"}
    finally:
        await sim.stop()


async def test_key_granted_but_printer_gone_aborts(
    hass: HomeAssistant,
    octoprint: tuple[OctoPrintSimulator, dict[str, Any]],
    requests: asyncio.Queue[str],
) -> None:
    sim, line = octoprint
    flow_id = await _ask_for_key(hass, line)
    await _pending_request(sim, requests)
    sim.approve_all()
    await hass.async_block_till_done()
    await sim.stop()
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_closing_the_dialog_stops_waiting(
    hass: HomeAssistant,
    octoprint: tuple[OctoPrintSimulator, dict[str, Any]],
    requests: asyncio.Queue[str],
) -> None:
    sim, line = octoprint
    flow_id = await _ask_for_key(hass, line)
    await _pending_request(sim, requests)
    hass.config_entries.flow.async_abort(flow_id)
    await hass.async_block_till_done()
    waiting = [
        task
        for task in asyncio.all_tasks()
        if "_async_pair" in repr(task.get_coro()) and not task.done()
    ]
    assert waiting == []
    assert hass.config_entries.flow.async_progress() == []
