"""printfarm's intents as tools for LLM assistants: through HA's Assist LLM API and its MCP server.

The MCP test is an MCP client (the ``mcp`` package's own SSE client) talking to
Home Assistant's ``mcp_server`` integration over HTTP on loopback, as Claude
Desktop or any other MCP client would.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import dataclasses
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from mcp import ClientSession
from mcp.client.sse import sse_client
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.intents import INTENTS
from simulator.base import SimulatedPrinter

from .conftest import add_printer_entry, printer_device, start_simulator

INTENT_TYPES = {handler.intent_type for handler in INTENTS}


@pytest.fixture
async def printers(hass: HomeAssistant) -> AsyncGenerator[list[MockConfigEntry]]:
    for domain in ("homeassistant", "conversation", "intent"):
        assert await async_setup_component(hass, domain, {})
    try:
        await async_get_integration(hass, "llm")
    except Exception:
        pass
    else:
        assert await async_setup_component(hass, "llm", {})
    sims: list[SimulatedPrinter] = []
    entries: list[MockConfigEntry] = []
    for kind in ("moonraker", "octoprint"):
        sim, line = await start_simulator(kind)
        sims.append(sim)
        entries.append(await add_printer_entry(hass, line))
    for entry in entries:
        await entry.runtime_data.client.wait_for_state(lambda s: s.status.value == "printing", 15)
    yield entries
    for entry in entries:
        await hass.config_entries.async_unload(entry.entry_id)
    for sim in sims:
        await sim.stop()


def llm_context(hass: HomeAssistant) -> llm.LLMContext:
    """An LLM context with the fields this release has."""
    values: dict[str, Any] = {
        "platform": "test",
        "context": Context(),
        "user_prompt": None,
        "language": "en",
        "assistant": "conversation",
        "device_id": None,
    }
    names = {f.name for f in dataclasses.fields(llm.LLMContext)}
    return llm.LLMContext(**{k: v for k, v in values.items() if k in names})


def intent_of(tool_name: str) -> str:
    """HA 2026.x prefixes a tool with its integration's domain; 2025.4 uses the intent type."""
    return tool_name.removeprefix("printfarm__")


def text_of(result: Any) -> str:
    """An MCP tool result's text."""
    return "".join(getattr(part, "text", "") for part in result.content)


def speech(result: Any) -> str:
    data = getattr(result, "data", result)  # a ToolResult from 2026.10, a dict before
    return str(data["speech"]["plain"]["speech"])


async def test_every_intent_is_a_tool_and_pausing_works(
    hass: HomeAssistant, printers: list[MockConfigEntry]
) -> None:
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context(hass))
    tools = {
        intent_of(tool.name): tool for tool in api.tools if intent_of(tool.name) in INTENT_TYPES
    }
    assert set(tools) == INTENT_TYPES
    stop = tools["PrintfarmStopPrinter"]
    assert "confirmed" in str(stop.parameters.schema)
    stop_info: Any = stop
    if hasattr(stop_info, "annotations"):  # HA 2026.10: titles and behaviour for MCP clients
        assert stop_info.annotations.destructive
        status: Any = tools["PrintfarmPrinterStatus"]
        assert status.annotations.read_only
        assert stop_info.title == "Stop a printer"

    first = printers[0]
    name = str(printer_device(hass, first).name)
    result = await api.async_call_tool(
        llm.ToolInput(tool_name=tools["PrintfarmPausePrinter"].name, tool_args={"name": name})
    )
    assert speech(result) == f"Paused {name}."
    await first.runtime_data.client.wait_for_state(lambda s: s.status.value == "paused", 15)

    result = await api.async_call_tool(
        llm.ToolInput(tool_name=tools["PrintfarmListPrinting"].name, tool_args={})
    )
    assert speech(result) == f"{printer_device(hass, printers[1]).name} is printing."


async def test_stop_tool_asks_until_confirmed(
    hass: HomeAssistant, printers: list[MockConfigEntry]
) -> None:
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context(hass))
    tool = next(t for t in api.tools if intent_of(t.name) == "PrintfarmStopPrinter")
    entry = printers[1]
    name = str(printer_device(hass, entry).name)
    first = await api.async_call_tool(llm.ToolInput(tool_name=tool.name, tool_args={"name": name}))
    assert speech(first).endswith("Do you want to stop it?")
    assert entry.runtime_data.data.status.value == "printing"
    second = await api.async_call_tool(
        llm.ToolInput(tool_name=tool.name, tool_args={"name": name, "confirmed": True})
    )
    assert speech(second) == f"Stopped {name}."
    await entry.runtime_data.client.wait_for_state(
        lambda s: s.status.value in ("cancelled", "idle"), 15
    )


async def test_an_unknown_printer_is_an_error_that_lists_the_printers(
    hass: HomeAssistant, printers: list[MockConfigEntry]
) -> None:
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context(hass))
    tool = next(t for t in api.tools if intent_of(t.name) == "PrintfarmPrinterStatus")
    result = await api.async_call_tool(
        llm.ToolInput(tool_name=tool.name, tool_args={"name": "Ultimaker"})
    )
    data = getattr(result, "data", result)
    assert data["response_type"] == "error"
    text = speech(result)
    assert text.startswith("I don't know a printer called Ultimaker. The printers are ")
    for entry in printers:
        assert str(printer_device(hass, entry).name) in text


async def test_the_tools_through_home_assistants_mcp_server(
    hass: HomeAssistant,
    printers: list[MockConfigEntry],
    hass_client: Any,
    hass_access_token: str,
) -> None:
    MockConfigEntry(
        domain="mcp_server",
        data={"llm_hass_api": "assist", "all_llm_apis": False, "require_admin": True},
    ).add_to_hass(hass)
    assert await async_setup_component(hass, "mcp_server", {})
    await hass.async_block_till_done()
    client = await hass_client()
    url = str(client.make_url("/mcp_server/sse"))
    headers = {"Authorization": f"Bearer {hass_access_token}"}

    first = printers[0]
    name = str(printer_device(hass, first).name)
    async with (
        sse_client(url, headers=headers) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        listed = await session.list_tools()
        tools = {intent_of(t.name): t for t in listed.tools if intent_of(t.name) in INTENT_TYPES}
        assert set(tools) == INTENT_TYPES
        stop = tools["PrintfarmStopPrinter"]
        assert "confirmed" in stop.inputSchema["properties"]
        listed_stop: Any = stop
        if getattr(listed_stop, "annotations", None) is not None:  # mcp 1.28 with HA 2026.10
            assert listed_stop.annotations.destructiveHint is True
            time_left: Any = tools["PrintfarmPrinterTimeLeft"]
            assert time_left.annotations.readOnlyHint is True

        result = await session.call_tool(tools["PrintfarmPausePrinter"].name, {"name": name})
        assert not result.isError
        assert f"Paused {name}." in text_of(result)
        result = await session.call_tool(tools["PrintfarmPrinterTimeLeft"].name, {"name": name})
        assert f"{name} is paused with " in text_of(result)
    await first.runtime_data.client.wait_for_state(lambda s: s.status.value == "paused", 15)
