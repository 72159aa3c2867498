"""printfarm's intents: what LLM-based assistants (and MCP clients) can ask of the farm.

The same answers as Assist's sentences (``voice.py``), with the printer named in
a ``name`` slot. Home Assistant 2025.4 offers every registered intent to LLMs as
a tool by itself; from 2026.x ``llm.py`` offers these handlers as tools.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, intent
import voluptuous as vol

from .farm import async_get_farm_hub
from .farm_actions import FarmAction
from .voice import (
    Phrases,
    VoiceError,
    async_all_printers,
    async_load_phrases,
    async_printer_command,
    phrases_for,
    printer_status,
    printing_now,
    resolve_printer,
    stop_question,
    time_left,
)

ATTR_NAME = "name"
ATTR_CONFIRMED = "confirmed"

type PrinterAnswer = Callable[[HomeAssistant, Phrases, str, dict[str, Any]], Awaitable[str]]
type FarmAnswer = Callable[[HomeAssistant, Phrases], Awaitable[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolInfo:
    """How an LLM tool presents an intent (title and behaviour, for HA 2026.10+)."""

    title: str
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = True


class PrinterIntent(intent.IntentHandler):
    """An intent about one printer, named in the ``name`` slot."""

    platforms = None

    def __init__(
        self,
        intent_type: str,
        description: str,
        answer: PrinterAnswer,
        tool: ToolInfo,
        extra_slots: dict[Any, Any] | None = None,
    ) -> None:
        """One intent type."""
        self.intent_type = intent_type
        self.description = description
        self.tool = tool
        self._answer = answer
        self._slots = {vol.Required(ATTR_NAME): cv.string, **(extra_slots or {})}

    @property
    def slot_schema(self) -> dict[Any, Any]:
        """The printer's name, and any extra slot."""
        return self._slots

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Find the printer, then answer."""
        hass = intent_obj.hass
        await async_load_phrases(hass)
        phrases = phrases_for(hass, intent_obj.language)
        slots = {key: value["value"] for key, value in intent_obj.slots.items()}
        response = intent_obj.create_response()
        try:
            entry_id = resolve_printer(hass, phrases, str(slots[ATTR_NAME]))
        except VoiceError as err:
            response.async_set_error(intent.IntentResponseErrorCode.NO_VALID_TARGETS, str(err))
            return response
        response.async_set_speech(await self._answer(hass, phrases, entry_id, slots))
        return response


class FarmIntent(intent.IntentHandler):
    """An intent about the whole farm."""

    platforms = None
    slot_schema = None

    def __init__(self, intent_type: str, description: str, answer: FarmAnswer, tool: ToolInfo):
        """One intent type."""
        self.intent_type = intent_type
        self.description = description
        self.tool = tool
        self._answer = answer

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Answer for the farm."""
        hass = intent_obj.hass
        await async_load_phrases(hass)
        phrases = phrases_for(hass, intent_obj.language)
        response = intent_obj.create_response()
        response.async_set_speech(await self._answer(hass, phrases))
        return response


def _command(action: FarmAction) -> PrinterAnswer:
    async def answer(hass: HomeAssistant, phrases: Phrases, entry_id: str, _s: Any) -> str:
        return await async_printer_command(hass, phrases, entry_id, action)

    return answer


async def _stop(hass: HomeAssistant, phrases: Phrases, entry_id: str, slots: Any) -> str:
    """Stop only once the user confirmed; otherwise the question to ask them."""
    if not slots.get(ATTR_CONFIRMED):
        question = stop_question(hass, phrases, entry_id)
        if question is not None:
            return question
    return await async_printer_command(hass, phrases, entry_id, FarmAction.STOP)


def _read(fn: Callable[[HomeAssistant, Phrases, str], str]) -> PrinterAnswer:
    async def answer(hass: HomeAssistant, phrases: Phrases, entry_id: str, _s: Any) -> str:
        return fn(hass, phrases, entry_id)

    return answer


async def _printing(hass: HomeAssistant, phrases: Phrases) -> str:
    return printing_now(hass, phrases)


async def _farm_overview(hass: HomeAssistant, phrases: Phrases) -> str:
    """Every printer's status, one sentence each."""
    hub = async_get_farm_hub(hass)
    if not hub.printers:
        return phrases.say("no_printers")
    return " ".join(printer_status(hass, phrases, p.entry_id) for p in hub.snapshot())


def _all(action: FarmAction) -> FarmAnswer:
    async def answer(hass: HomeAssistant, phrases: Phrases) -> str:
        return await async_all_printers(hass, phrases, action)

    return answer


INTENTS: tuple[PrinterIntent | FarmIntent, ...] = (
    PrinterIntent(
        "PrintfarmPausePrinter",
        "Pauses the print on one 3D printer of the print farm, named by the user.",
        _command(FarmAction.PAUSE),
        ToolInfo(title="Pause a printer"),
    ),
    PrinterIntent(
        "PrintfarmResumePrinter",
        "Resumes the paused print on one 3D printer of the print farm.",
        _command(FarmAction.RESUME),
        ToolInfo(title="Resume a printer"),
    ),
    PrinterIntent(
        "PrintfarmStopPrinter",
        "Stops (cancels) the print on one 3D printer; this cannot be undone. Call it first "
        "without 'confirmed' to get the question to ask the user; only after the user says "
        "yes, call it again with confirmed set to true.",
        _stop,
        ToolInfo(title="Stop a printer", destructive=True),
        {vol.Optional(ATTR_CONFIRMED): cv.boolean},
    ),
    PrinterIntent(
        "PrintfarmPrinterTimeLeft",
        "Tells how long until one 3D printer of the print farm finishes its print, and when.",
        _read(time_left),
        ToolInfo(title="Time left on a printer", read_only=True),
    ),
    PrinterIntent(
        "PrintfarmPrinterStatus",
        "Tells what one 3D printer of the print farm is doing: its status, job, progress "
        "and time left.",
        _read(printer_status),
        ToolInfo(title="Printer status", read_only=True),
    ),
    FarmIntent(
        "PrintfarmListPrinting",
        "Lists the 3D printers of the print farm that are printing now.",
        _printing,
        ToolInfo(title="Printers printing", read_only=True),
    ),
    FarmIntent(
        "PrintfarmFarmStatus",
        "Tells the status of every 3D printer of the print farm, one sentence each.",
        _farm_overview,
        ToolInfo(title="Print farm status", read_only=True),
    ),
    FarmIntent(
        "PrintfarmPauseAll",
        "Pauses every 3D printer of the print farm that is printing.",
        _all(FarmAction.PAUSE),
        ToolInfo(title="Pause all printers"),
    ),
    FarmIntent(
        "PrintfarmResumeAll",
        "Resumes every paused 3D printer of the print farm.",
        _all(FarmAction.RESUME),
        ToolInfo(title="Resume all printers"),
    ),
)


def async_setup_intents(hass: HomeAssistant) -> None:
    """Register every printfarm intent."""
    for handler in INTENTS:
        intent.async_register(hass, handler)
