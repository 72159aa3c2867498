"""Home Assistant's own conversation agent understands printfarm, with no files to copy.

printfarm registers conversation sentence triggers, the public mechanism behind
"sentence" automations, so Assist knows its sentences in every language of
``voice/`` from the moment the integration loads. A printer sentence carries the
current names of every printer as alternatives; the triggers are rebuilt when
printers join or leave the farm and when a name or alias changes. A sentence
without a printer name of ours never matches, so "pause the TV" still goes to
Home Assistant's own intents.

Stopping asks first. The question opens a short window in which "yes" or "no"
(in any of the languages) answers it, for that conversation only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import EVENT_COMPONENT_LOADED, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.chat_session import current_session
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.script import ScriptRunResult
from homeassistant.helpers.trigger import (
    async_initialize_triggers,
    async_validate_trigger_config,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .farm import async_get_farm_hub
from .farm_actions import FarmAction
from .voice import (
    Phrases,
    async_all_printers,
    async_load_phrases,
    async_printer_command,
    find_printers,
    phrases_for,
    printer_names,
    printer_status,
    printing_now,
    stop_question,
    time_left,
)

ASSIST_KEY: HassKey[AssistSentences] = HassKey(f"{DOMAIN}_assist")
#: How long a stop question waits for "yes" or "no".
CONFIRM_WINDOW = timedelta(seconds=60)
#: Sentences that name one printer, and those about the whole farm.
PRINTER_INTENTS = ("pause", "resume", "stop", "time_left", "status")
FARM_INTENTS = ("list_printing", "pause_all", "resume_all")
ANSWER_INTENTS = ("confirm", "deny")

type Handler = Callable[[dict[str, Any]], Awaitable[str]]


@dataclass(slots=True)
class PendingStop:
    """A stop question waiting for its answer."""

    entry_id: str
    expires: datetime


def conversation_key(user_input: dict[str, Any], context: Context | None) -> str:
    """Which conversation a sentence belongs to (the stop question is answered in the same one)."""
    session = current_session.get()
    if session is not None:
        return f"conversation:{session.conversation_id}"
    for field in ("conversation_id", "device_id"):
        if value := user_input.get(field):
            return f"{field}:{value}"
    if context is not None and context.user_id:
        return f"user:{context.user_id}"
    return "anyone"


class AssistSentences:
    """printfarm's sentence triggers on the default conversation agent."""

    def __init__(self, hass: HomeAssistant, phrases: dict[str, Phrases]) -> None:
        """Nothing registered yet."""
        self.hass = hass
        self.phrases = phrases
        self._unsub_sentences: CALLBACK_TYPE | None = None
        self._unsub_answers: CALLBACK_TYPE | None = None
        self._pending: dict[str, PendingStop] = {}
        self._names: dict[str, set[str]] | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self._timers: list[CALLBACK_TYPE] = []
        self._debouncer = Debouncer(
            hass,
            LOGGER,
            cooldown=0.5,
            immediate=False,
            function=self.async_rebuild,
            background=True,
        )

    def _sentences(self, intent: str, names: list[str]) -> list[str]:
        alternatives = "(" + "|".join(sorted(names, key=str.casefold)) + ")"
        return [
            sentence.replace("{printer}", alternatives)
            for phrases in self.phrases.values()
            for sentence in phrases.sentences.get(intent, [])
        ]

    async def _register(
        self, intents: dict[str, list[str]], handlers: dict[str, Handler]
    ) -> CALLBACK_TYPE | None:
        """One trigger per intent; each calls its handler and says what it returns."""
        configs = [
            {"platform": "conversation", "command": sentences, "id": intent}
            for intent, sentences in intents.items()
            if sentences
        ]
        if not configs:
            return None
        validated = await async_validate_trigger_config(self.hass, configs)

        async def action(
            run_variables: dict[str, Any], context: Context | None = None
        ) -> ScriptRunResult:
            trigger = run_variables["trigger"]
            try:
                answer = await handlers[trigger["id"]](trigger)
            except Exception:
                LOGGER.exception("printfarm could not answer %r", trigger.get("sentence"))
                raise
            return ScriptRunResult(
                conversation_response=answer, service_response=None, variables={}
            )

        def log(level: int, message: str, **kwargs: Any) -> None:
            LOGGER.log(level, "Assist sentences: %s", message, **kwargs)

        return await async_initialize_triggers(
            self.hass, validated, action, DOMAIN, "printfarm sentences", log
        )

    async def async_rebuild(self) -> None:
        """Register the sentences again if printers or their names changed."""
        names = printer_names(self.hass, async_get_farm_hub(self.hass))
        if names == self._names and self._unsub_sentences is not None:
            return
        self._names = names
        if self._unsub_sentences is not None:
            self._unsub_sentences()
            self._unsub_sentences = None
        every_name = sorted({name for found in names.values() for name in found})
        intents: dict[str, list[str]] = {
            intent: self._sentences(intent, []) for intent in FARM_INTENTS
        }
        if every_name:
            intents.update(
                {intent: self._sentences(intent, every_name) for intent in PRINTER_INTENTS}
            )
        handlers: dict[str, Handler] = {
            "pause": self._printer(
                lambda p, e: async_printer_command(self.hass, p, e, FarmAction.PAUSE)
            ),
            "resume": self._printer(
                lambda p, e: async_printer_command(self.hass, p, e, FarmAction.RESUME)
            ),
            "stop": self._stop,
            "time_left": self._printer(self._now(time_left)),
            "status": self._printer(self._now(printer_status)),
            "list_printing": self._farm(self._now_farm(printing_now)),
            "pause_all": self._farm(lambda p: async_all_printers(self.hass, p, FarmAction.PAUSE)),
            "resume_all": self._farm(lambda p: async_all_printers(self.hass, p, FarmAction.RESUME)),
        }
        self._unsub_sentences = await self._register(intents, handlers)
        LOGGER.debug("Assist sentences registered for %d printers", len(names))

    def _now(
        self, fn: Callable[[HomeAssistant, Phrases, str], str]
    ) -> Callable[[Phrases, str], Awaitable[str]]:
        async def run(phrases: Phrases, entry_id: str) -> str:
            return fn(self.hass, phrases, entry_id)

        return run

    def _now_farm(
        self, fn: Callable[[HomeAssistant, Phrases], str]
    ) -> Callable[[Phrases], Awaitable[str]]:
        async def run(phrases: Phrases) -> str:
            return fn(self.hass, phrases)

        return run

    def _phrases(self, trigger: dict[str, Any]) -> Phrases:
        return phrases_for(self.hass, (trigger.get("user_input") or {}).get("language"))

    def _printer(self, fn: Callable[[Phrases, str], Awaitable[str]]) -> Handler:
        """A handler for a sentence that names one printer."""

        async def handle(trigger: dict[str, Any]) -> str:
            phrases = self._phrases(trigger)
            found = find_printers(self.hass, trigger["sentence"])
            if len(found) != 1:
                hub = async_get_farm_hub(self.hass)
                if not found:
                    return phrases.say("no_printers")
                return phrases.say(
                    "ambiguous_printer",
                    name=hub.name(found[0]),
                    printers=phrases.join(hub.name(e) for e in found),
                )
            return await fn(phrases, found[0])

        return handle

    def _farm(self, fn: Callable[[Phrases], Awaitable[str]]) -> Handler:
        async def handle(trigger: dict[str, Any]) -> str:
            return await fn(self._phrases(trigger))

        return handle

    async def _stop(self, trigger: dict[str, Any]) -> str:
        """Ask before stopping; the answer comes in the same conversation."""

        async def ask(phrases: Phrases, entry_id: str) -> str:
            question = stop_question(self.hass, phrases, entry_id)
            if question is None:
                return await async_printer_command(self.hass, phrases, entry_id, FarmAction.STOP)
            key = conversation_key(trigger.get("user_input") or {}, None)
            self._pending[key] = PendingStop(entry_id, _now() + CONFIRM_WINDOW)
            await self._listen_for_answers()
            self._timers.append(async_call_later(self.hass, CONFIRM_WINDOW, self._expire))
            return question

        return await self._printer(ask)(trigger)

    async def _listen_for_answers(self) -> None:
        if self._unsub_answers is None:
            self._unsub_answers = await self._register(
                {intent: self._sentences(intent, []) for intent in ANSWER_INTENTS},
                {"confirm": self._answer, "deny": self._answer},
            )

    @callback
    def _expire(self, _now_: datetime | None = None) -> None:
        """Forget questions nobody answered; stop listening for "yes" when none is left."""
        now = _now()
        self._pending = {k: p for k, p in self._pending.items() if p.expires > now}
        if not self._pending:
            for cancel in self._timers:
                cancel()
            self._timers = []
            if self._unsub_answers is not None:
                self._unsub_answers()
                self._unsub_answers = None

    async def _answer(self, trigger: dict[str, Any]) -> str:
        phrases = self._phrases(trigger)
        self._expire()
        key = conversation_key(trigger.get("user_input") or {}, None)
        pending = self._pending.pop(key, None)
        self._expire()
        hub = async_get_farm_hub(self.hass)
        if pending is None or pending.entry_id not in hub.printers:
            return phrases.say("nothing_to_confirm")
        if trigger["id"] == "deny":
            return phrases.say("stop_kept", name=hub.name(pending.entry_id))
        return await async_printer_command(self.hass, phrases, pending.entry_id, FarmAction.STOP)

    @callback
    def async_schedule_rebuild(self, *_args: Any) -> None:
        """Rebuild soon (several changes at once rebuild once)."""
        self._debouncer.async_schedule_call()

    @callback
    def async_start(self) -> None:
        """Follow printers joining or leaving and names changing."""
        hub = async_get_farm_hub(self.hass)
        self._unsubs = [
            hub.async_add_listener(self.async_schedule_rebuild),
            self.hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, self._registry_changed),
            self.hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._registry_changed),
        ]
        self.async_schedule_rebuild()

    @callback
    def _registry_changed(self, _event: Event[Any]) -> None:
        self.async_schedule_rebuild()

    @callback
    def async_stop(self) -> None:
        """Remove every trigger."""
        for unsub in (*self._unsubs, *self._timers, self._unsub_sentences, self._unsub_answers):
            if unsub is not None:
                unsub()
        self._unsubs = []
        self._timers = []
        self._unsub_sentences = self._unsub_answers = None
        self._debouncer.async_shutdown()


def _now() -> datetime:
    return dt_util.utcnow()


async def async_setup_assist(hass: HomeAssistant) -> None:
    """Teach the default conversation agent printfarm's sentences, once conversation is loaded."""
    phrases = await async_load_phrases(hass)

    async def start(_event: Event[Any] | None = None) -> None:
        if ASSIST_KEY in hass.data or "conversation" not in hass.config.components:
            return
        assist = hass.data[ASSIST_KEY] = AssistSentences(hass, phrases)
        assist.async_start()
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, lambda _e: assist.async_stop())

    if "conversation" in hass.config.components:
        await start()
        return

    @callback
    def component_loaded(event: Event[Any]) -> None:
        if event.data.get("component") == "conversation":
            hass.async_create_task(start(), f"{DOMAIN} assist sentences")

    hass.bus.async_listen(EVENT_COMPONENT_LOADED, component_loaded)
