"""What printfarm says: printer names as users say them, and the answers in each language.

``voice/<language>.yaml`` holds, per language, the sentences Assist understands
and the answers it gives. This module finds a printer by any of its names and
does what a sentence or an LLM tool asks, returning the answer to speak. Two
callers share it: the sentence triggers of ``assist.py`` (Home Assistant's own
conversation agent) and the intent handlers of ``intents.py`` (LLM tools, MCP).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
import yaml

from .const import DOMAIN
from .farm import FarmHub, async_get_farm_hub
from .farm_actions import FarmAction, async_farm_action
from .helpers import translate_error
from .printers import ACTIVE_STATUSES, PrinterError, PrintStatus

VOICE_DIR = Path(__file__).parent / "voice"
DEFAULT_LANGUAGE = "en"
PHRASES_KEY: HassKey[dict[str, Phrases]] = HassKey(f"{DOMAIN}_phrases")

#: Characters of a name that hassil reads as template syntax or drops as punctuation.
#: (Template syntax, quotes, and the punctuation hassil strips, CJK and Arabic included.)
_NOT_SPOKEN = re.compile(
    '[()\\[\\]{}<>|"\u2019.,?!;:\u00bf\u00a1\u3002\uff0c\uff1f\u061f\uff01\uff1b\uff1a]+'
)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Phrases:
    """One language's sentences and answers."""

    language: str
    sentences: Mapping[str, list[str]]
    responses: Mapping[str, str]
    words: Mapping[str, Any]

    def say(self, key: str, **values: Any) -> str:
        """An answer with its placeholders filled in."""
        return self.responses[key].format(**values)

    def status(self, status: PrintStatus) -> str:
        """A status as a spoken word."""
        return str(self.words["status"][status.value])

    def join(self, names: Iterable[str]) -> str:
        """A, B and C."""
        items = list(names)
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.words['and']} {items[-1]}"

    def duration(self, seconds: float) -> str:
        """About how long: hours and minutes, rounded up to the next minute."""
        minutes = max(int((seconds + 59) // 60), 0)
        hours, minutes = divmod(minutes, 60)
        parts = []
        if hours:
            parts.append(
                self.words["hour"] if hours == 1 else self.words["hours"].format(count=hours)
            )
        if minutes or not hours:
            parts.append(
                self.words["minute"]
                if minutes == 1
                else self.words["minutes"].format(count=minutes)
            )
        return self.join(parts)

    def percent(self, value: float | None) -> str:
        """A progress as spoken."""
        return str(self.words["percent"]).format(value=round(value or 0))


def load_phrases() -> dict[str, Phrases]:
    """Every language in voice/ (blocking: run in the executor)."""
    found: dict[str, Phrases] = {}
    for path in sorted(VOICE_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[data["language"]] = Phrases(
            language=data["language"],
            sentences=data["sentences"],
            responses=data["responses"],
            words=data["words"],
        )
    return found


async def async_load_phrases(hass: HomeAssistant) -> dict[str, Phrases]:
    """The phrases, read once."""
    if (phrases := hass.data.get(PHRASES_KEY)) is None:
        phrases = hass.data[PHRASES_KEY] = await hass.async_add_executor_job(load_phrases)
    return phrases


def phrases_for(hass: HomeAssistant, language: str | None) -> Phrases:
    """The phrases of a language (``de-CH`` finds ``de``), English where there are none."""
    table = hass.data[PHRASES_KEY]
    code = (language or hass.config.language or DEFAULT_LANGUAGE).replace("_", "-").lower()
    return table.get(code) or table.get(code.split("-")[0]) or table[DEFAULT_LANGUAGE]


def spoken(name: str) -> str:
    """A name as a sentence template may hold it: no syntax, no punctuation, single spaces."""
    return _SPACES.sub(" ", _NOT_SPOKEN.sub(" ", name)).strip()


def _tokens(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]


@callback
def printer_names(hass: HomeAssistant, hub: FarmHub) -> dict[str, set[str]]:
    """Every name of every loaded printer, by entry id.

    The name the user gave the device, the device's own name (what discovery
    found), the entry's title, and the aliases of any of its entities.
    """
    registry = er.async_get(hass)
    names: dict[str, set[str]] = {}
    for entry_id, coordinator in hub.printers.items():
        found = {hub.name(entry_id), coordinator.config_entry.title}
        for device_name in _device_names(hass, entry_id):
            found.add(device_name)
        for entity in er.async_entries_for_config_entry(registry, entry_id):
            found.update(alias for alias in entity.aliases if isinstance(alias, str))
        names[entry_id] = {spoken(name) for name in found if spoken(name)}
    return names


def _device_names(hass: HomeAssistant, entry_id: str) -> list[str]:
    return [
        str(name)
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        for name in (device.name_by_user, device.name)
        if name
    ]


@callback
def find_printers(hass: HomeAssistant, text: str) -> list[str]:
    """The printers whose name the text holds, the longest name winning.

    Names are compared word by word, ignoring case and punctuation. Several
    printers come back only when they share that longest name.
    """
    hub = async_get_farm_hub(hass)
    words = _tokens(text)
    best: list[str] = []
    best_len = 0
    for entry_id, names in printer_names(hass, hub).items():
        for name in names:
            wanted = _tokens(name)
            n = len(wanted)
            if not n or n < best_len:
                continue
            if any(words[i : i + n] == wanted for i in range(len(words) - n + 1)):
                if n > best_len:
                    best, best_len = [], n
                if entry_id not in best:
                    best.append(entry_id)
    return best


class VoiceError(HomeAssistantError):
    """A printer could not be found: the message is the spoken answer."""


@callback
def resolve_printer(hass: HomeAssistant, phrases: Phrases, name: str) -> str:
    """The one printer called ``name``; a VoiceError with the answer otherwise."""
    hub = async_get_farm_hub(hass)
    if not hub.printers:
        raise VoiceError(phrases.say("no_printers"))
    found = find_printers(hass, name)
    if len(found) == 1:
        return found[0]
    if found:
        raise VoiceError(
            phrases.say(
                "ambiguous_printer", name=name, printers=phrases.join(hub.name(e) for e in found)
            )
        )
    raise VoiceError(
        phrases.say(
            "unknown_printer",
            name=name,
            printers=phrases.join(p.name for p in hub.snapshot()),
        )
    )


async def async_printer_command(
    hass: HomeAssistant, phrases: Phrases, entry_id: str, action: FarmAction
) -> str:
    """Pause, resume or stop one printer; the answer."""
    hub = async_get_farm_hub(hass)
    coordinator = hub.printers[entry_id]
    name = hub.name(entry_id)
    state = coordinator.data
    if not state.connected:
        return phrases.say("offline", name=name)
    if action is FarmAction.PAUSE and state.status not in (
        PrintStatus.PREPARING,
        PrintStatus.PRINTING,
    ):
        return phrases.say("not_printing_pause", name=name)
    if action is FarmAction.RESUME and state.status is not PrintStatus.PAUSED:
        return phrases.say("not_paused", name=name)
    if action is FarmAction.STOP and state.status not in ACTIVE_STATUSES:
        return phrases.say("nothing_to_stop", name=name)
    client = coordinator.client
    try:
        if action is FarmAction.PAUSE:
            await client.pause()
        elif action is FarmAction.RESUME:
            await client.resume()
        else:
            await client.stop()
    except PrinterError as err:
        return phrases.say("failed", name=name, error=str(translate_error(err, name)))
    done = {FarmAction.PAUSE: "paused", FarmAction.RESUME: "resumed", FarmAction.STOP: "stopped"}
    return phrases.say(done[action], name=name)


@callback
def stop_question(hass: HomeAssistant, phrases: Phrases, entry_id: str) -> str | None:
    """The question before stopping, or None when there is nothing to stop (or no connection)."""
    hub = async_get_farm_hub(hass)
    state = hub.printers[entry_id].data
    if not state.connected or state.status not in ACTIVE_STATUSES:
        return None
    name = hub.name(entry_id)
    if state.job:
        return phrases.say(
            "stop_question",
            name=name,
            job=spoken(state.job),
            progress=phrases.percent(state.progress),
        )
    return phrases.say("stop_question_no_job", name=name)


@callback
def time_left(hass: HomeAssistant, phrases: Phrases, entry_id: str) -> str:
    """How long until the printer is done."""
    hub = async_get_farm_hub(hass)
    state = hub.printers[entry_id].data
    name = hub.name(entry_id)
    if not state.connected:
        return phrases.say("offline", name=name)
    if state.status is PrintStatus.PAUSED and state.remaining_s is not None:
        return phrases.say(
            "time_left_paused", name=name, duration=phrases.duration(state.remaining_s)
        )
    if state.status not in (PrintStatus.PREPARING, PrintStatus.PRINTING):
        return phrases.say("not_printing", name=name, status=phrases.status(state.status))
    if state.remaining_s is None:
        return phrases.say("time_left_unknown", name=name)
    finish = dt_util.as_local(dt_util.utcnow() + timedelta(seconds=state.remaining_s))
    return phrases.say(
        "time_left",
        name=name,
        duration=phrases.duration(state.remaining_s),
        time=finish.strftime("%H:%M"),
    )


@callback
def printer_status(hass: HomeAssistant, phrases: Phrases, entry_id: str) -> str:
    """What the printer is doing."""
    hub = async_get_farm_hub(hass)
    state = hub.printers[entry_id].data
    name = hub.name(entry_id)
    if not state.connected:
        return phrases.say("offline", name=name)
    status = phrases.status(state.status)
    if state.status is PrintStatus.ERROR and state.error:
        return phrases.say("status_error", name=name, error=state.error)
    if state.status in ACTIVE_STATUSES and state.job:
        if state.progress is not None and state.remaining_s is not None:
            return phrases.say(
                "status_job",
                name=name,
                status=status,
                job=spoken(state.job),
                progress=phrases.percent(state.progress),
                duration=phrases.duration(state.remaining_s),
            )
        return phrases.say("status_job_short", name=name, status=status, job=spoken(state.job))
    return phrases.say("status_plain", name=name, status=status)


@callback
def printing_now(hass: HomeAssistant, phrases: Phrases) -> str:
    """Which printers are printing."""
    hub = async_get_farm_hub(hass)
    names = [
        p.name for p in hub.snapshot() if p.status in (PrintStatus.PREPARING, PrintStatus.PRINTING)
    ]
    if not names:
        return phrases.say("none_printing")
    if len(names) == 1:
        return phrases.say("one_printing", printers=names[0])
    return phrases.say("many_printing", count=len(names), printers=phrases.join(names))


async def async_all_printers(hass: HomeAssistant, phrases: Phrases, action: FarmAction) -> str:
    """Pause or resume every printer where it applies."""
    result = await async_farm_action(hass, action)
    parts = []
    if result.done:
        key = "paused_all" if action is FarmAction.PAUSE else "resumed_all"
        parts.append(phrases.say(key, printers=phrases.join(result.done)))
    if result.failed:
        parts.append(phrases.say("some_failed", printers=phrases.join(result.failed)))
    if not parts:
        key = "nothing_to_pause" if action is FarmAction.PAUSE else "nothing_to_resume"
        parts.append(phrases.say(key))
    return " ".join(parts)
