"""printfarm's intents as tools of the Assist LLM API (Home Assistant 2026.x ``llm`` platform).

From 2026.x each integration offers its own tools through this platform, with a
title and annotations that HA's MCP server passes on to MCP clients. Home
Assistant 2025.4 has no ``llm`` integration and never loads this module: there,
the registered intents are offered to LLMs by Home Assistant itself.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import LLM_API_ASSIST, LLMContext

from .const import DOMAIN
from .intents import INTENTS


@callback
def async_get_tools(hass: HomeAssistant, llm_context: LLMContext, api_id: str) -> Any:
    """One tool per printfarm intent, for the Assist API."""
    if api_id != LLM_API_ASSIST:
        return None
    # Only releases that load this platform (2026.x) have these; mypy checks against 2025.4.
    from homeassistant.components.llm import LLMTools  # type: ignore[import-not-found]
    from homeassistant.helpers.llm import (  # type: ignore[attr-defined]
        IntentTool,
        ToolAnnotations,
    )

    registered = {handler.intent_type: handler for handler in intent.async_get(hass)}
    tools = [
        IntentTool(  # type: ignore[call-arg]
            f"{DOMAIN}__{handler.intent_type}",
            registered[handler.intent_type],
            title=handler.tool.title,
            integration=DOMAIN,
            annotations=ToolAnnotations(
                read_only=handler.tool.read_only,
                destructive=handler.tool.destructive,
                idempotent=handler.tool.read_only or handler.tool.idempotent,
                open_world=False,
            ),
        )
        for handler in INTENTS
        if handler.intent_type in registered
    ]
    return LLMTools(tools=tools) if tools else None
