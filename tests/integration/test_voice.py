"""Assist with Home Assistant's own conversation agent: printfarm's sentences, no files copied.

Every sentence goes through the ``conversation.process`` action, as a voice
satellite's text would; each test asserts what happened to the simulated
printer and what Assist answered.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printfarm.const import DOMAIN
from simulator.base import SimulatedPrinter

from .conftest import add_printer_entry, printer_device, start_simulator


class VoiceFarm:
    """Two printing printers and an idle one, with Assist loaded."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.sims: list[SimulatedPrinter] = []
        self.entries: list[MockConfigEntry] = []

    async def add(self, kind: str, *, printing: bool = True) -> MockConfigEntry:
        sim, line = await start_simulator(kind, start_printing=printing)
        self.sims.append(sim)
        entry = await add_printer_entry(self.hass, line)
        self.entries.append(entry)
        return entry

    def name(self, entry: MockConfigEntry) -> str:
        return str(printer_device(self.hass, entry).name)

    async def say(self, text: str, language: str = "en", conversation_id: str | None = None) -> str:
        data: dict[str, Any] = {"text": text, "language": language}
        if conversation_id:
            data["conversation_id"] = conversation_id
        result: Any = await self.hass.services.async_call(
            "conversation", "process", data, blocking=True, return_response=True
        )
        assert result is not None
        await self.hass.async_block_till_done()
        return str(result["response"]["speech"]["plain"]["speech"])

    async def status(self, entry: MockConfigEntry, wanted: str) -> None:
        await entry.runtime_data.client.wait_for_state(lambda s: s.status.value == wanted, 15)

    async def stop(self) -> None:
        for entry in self.entries:
            await self.hass.config_entries.async_unload(entry.entry_id)
        await self.hass.async_block_till_done()
        for sim in self.sims:
            await sim.stop()


@pytest.fixture
async def voice(hass: HomeAssistant) -> AsyncGenerator[VoiceFarm]:
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    farm = VoiceFarm(hass)
    await farm.add("moonraker")
    await farm.add("octoprint")
    await farm.add("prusalink", printing=False)
    await farm.status(farm.entries[1], "printing")
    # printfarm registers its sentences half a second after the last printer or name change.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    yield farm
    await farm.stop()


async def test_pause_and_resume_a_printer_by_its_name(voice: VoiceFarm) -> None:
    voron = voice.entries[0]
    name = voice.name(voron)
    assert await voice.say(f"pause the {name}") == f"Paused {name}."
    await voice.status(voron, "paused")
    assert (
        await voice.say(f"pause {name}") == f"{name} is not printing, so there is nothing to pause."
    )
    assert await voice.say(f"resume the {name}") == f"Resumed {name}."
    await voice.status(voron, "printing")


async def test_names_are_matched_without_case_or_punctuation(voice: VoiceFarm) -> None:
    voron = voice.entries[0]
    name = voice.name(voron)
    assert await voice.say(f"Pause the {name.upper()}!") == f"Paused {name}."
    await voice.status(voron, "paused")


async def test_stop_asks_first_and_only_yes_in_the_same_conversation_stops(
    voice: VoiceFarm,
) -> None:
    voron = voice.entries[0]
    name = voice.name(voron)
    question = await voice.say(f"stop the {name}", conversation_id="kitchen")
    assert question.startswith(f"{name} is printing ")
    assert question.endswith(
        "Stopping cancels the print and cannot be undone. Do you want to stop it?"
    )
    assert voron.runtime_data.data.status.value == "printing"

    # "yes" in another conversation does not stop it; "no" keeps it printing.
    assert (
        await voice.say("yes", conversation_id="garage")
        == "There is nothing waiting for your answer."
    )
    assert await voice.say("no", conversation_id="kitchen") == f"Okay, {name} keeps printing."
    assert voron.runtime_data.data.status.value == "printing"

    await voice.say(f"cancel the print on the {name}", conversation_id="kitchen")
    assert await voice.say("yes", conversation_id="kitchen") == f"Stopped {name}."
    await voron.runtime_data.client.wait_for_state(
        lambda s: s.status.value in ("cancelled", "idle"), 15
    )
    # With no question open, "yes" is not printfarm's any more.
    assert await voice.say("yes", conversation_id="kitchen") != f"Stopped {name}."


async def test_how_long_and_what_is_it_doing(voice: VoiceFarm) -> None:
    voron, _octo, prusa = voice.entries
    name = voice.name(voron)
    answer = await voice.say(f"how long until the {name} is done")
    assert answer.startswith(f"{name} will be done in ")
    assert " minute" in answer
    assert ", at " in answer
    answer = await voice.say(f"what is the {name} doing")
    assert answer.startswith(f"{name} is printing: ")
    assert " percent done, " in answer
    assert answer.endswith(" left.")
    idle = voice.name(prusa)
    assert await voice.say(f"what is the {idle} doing") == f"{idle} is idle."
    assert await voice.say(f"how long until the {idle} is done") == (
        f"{idle} is not printing. It is idle."
    )


async def test_which_printers_are_printing_and_pause_all(voice: VoiceFarm) -> None:
    voron, octo, prusa = voice.entries
    printing = sorted([voice.name(voron), voice.name(octo)], key=str.casefold)
    assert await voice.say("which printers are printing") == (
        f"2 printers are printing: {printing[0]} and {printing[1]}."
    )
    assert await voice.say("pause all printers") == f"Paused {printing[0]} and {printing[1]}."
    await voice.status(voron, "paused")
    await voice.status(octo, "paused")
    assert prusa.runtime_data.data.status.value == "idle"
    assert await voice.say("which printers are printing") == "No printer is printing."
    assert await voice.say("resume all printers") == f"Resumed {printing[0]} and {printing[1]}."
    await voice.status(voron, "printing")


async def test_the_users_name_and_aliases_work_and_follow_renames(
    hass: HomeAssistant, voice: VoiceFarm
) -> None:
    voron = voice.entries[0]
    device = printer_device(hass, voron)
    dr.async_get(hass).async_update_device(device.id, name_by_user="Garage Voron")
    registry = er.async_get(hass)
    status = next(
        e
        for e in er.async_entries_for_config_entry(registry, voron.entry_id)
        if e.translation_key == "status"
    )
    aliases: Any = {"big printer"}
    registry.async_update_entity(status.entity_id, aliases=aliases)
    await hass.async_block_till_done()
    await _settled(hass)

    assert await voice.say("pause the garage voron") == "Paused Garage Voron."
    await voice.status(voron, "paused")
    assert await voice.say("resume the big printer") == "Resumed Garage Voron."
    await voice.status(voron, "printing")
    # The name discovery gave (the device's own name) still works.
    assert await voice.say(f"pause the {device.name}") == "Paused Garage Voron."


async def test_sentences_that_name_no_printer_stay_home_assistants(
    voice: VoiceFarm,
) -> None:
    answer = await voice.say("pause the kitchen radio")
    assert "Paused" not in answer
    assert voice.entries[0].runtime_data.data.status.value == "printing"


async def test_a_printer_added_later_is_understood(hass: HomeAssistant, voice: VoiceFarm) -> None:
    late = await voice.add("elegoo")
    await voice.status(late, "printing")
    await _settled(hass)
    name = voice.name(late)
    assert await voice.say(f"pause the {name}") == f"Paused {name}."
    await voice.status(late, "paused")


#: One sentence of each kind per language, and the start of the expected answer.
LANGUAGES: dict[str, dict[str, str]] = {
    "de": {
        "pause": "pausiere den {name}",
        "paused": "{name} ist pausiert.",
        "resume": "setze den {name} fort",
        "resumed": "{name} druckt weiter.",
        "stop": "brich den Druck von {name} ab",
        "question": "Soll ich ihn abbrechen?",
        "yes": "ja",
        "stopped": "{name} ist abgebrochen.",
        "time": "wann ist der {name} fertig",
        "time_answer": "{name} ist in ",
        "status": "was macht der {name}",
        "status_answer": "{name} ist am Drucken: ",
        "list": "welche Drucker drucken gerade",
        "list_answer": "{name} druckt.",
        "pause_all": "pausiere alle Drucker",
        "paused_all": "Pausiert: {name}.",
    },
    "fr": {
        "pause": "mets l'imprimante {name} en pause",
        "paused": "{name} est en pause.",
        "resume": "reprends l'imprimante {name}",
        "resumed": "{name} a repris.",
        "stop": "arrête l'imprimante {name}",
        "question": "Voulez-vous l'arrêter ?",
        "yes": "oui",
        "stopped": "{name} est arrêtée.",
        "time": "quand l'imprimante {name} aura fini",
        "time_answer": "{name} aura fini dans ",
        "status": "que fait l'imprimante {name}",
        "status_answer": "{name} est en train d'imprimer : ",
        "list": "quelles imprimantes impriment",
        "list_answer": "{name} imprime.",
        "pause_all": "mets toutes les imprimantes en pause",
        "paused_all": "En pause : {name}.",
    },
    "es": {
        "pause": "pausa la impresora {name}",
        "paused": "{name} está en pausa.",
        "resume": "reanuda la impresora {name}",
        "resumed": "{name} continúa imprimiendo.",
        "stop": "detén la impresora {name}",
        "question": "¿Quieres detenerla?",
        "yes": "sí",
        "stopped": "{name} se ha detenido.",
        "time": "cuándo termina la impresora {name}",
        "time_answer": "{name} terminará en ",
        "status": "qué está haciendo la impresora {name}",
        "status_answer": "{name} está imprimiendo: ",
        "list": "qué impresoras están imprimiendo",
        "list_answer": "{name} está imprimiendo.",
        "pause_all": "pausa todas las impresoras",
        "paused_all": "En pausa: {name}.",
    },
    "nl": {
        "pause": "pauzeer de {name}",
        "paused": "{name} is gepauzeerd.",
        "resume": "hervat de {name}",
        "resumed": "{name} print weer verder.",
        "stop": "stop de printer {name}",
        "question": "Wil je stoppen?",
        "yes": "ja",
        "stopped": "{name} is gestopt.",
        "time": "wanneer is de {name} klaar",
        "time_answer": "{name} is klaar over ",
        "status": "wat doet de {name}",
        "status_answer": "{name} is aan het printen: ",
        "list": "welke printers zijn aan het printen",
        "list_answer": "{name} is aan het printen.",
        "pause_all": "pauzeer alle printers",
        "paused_all": "Gepauzeerd: {name}.",
    },
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
async def test_every_sentence_in_every_translation_language(
    hass: HomeAssistant, voice: VoiceFarm, language: str
) -> None:
    lines = LANGUAGES[language]
    voron, octo, _prusa = voice.entries
    # One printer printing, so the list and pause-all answers name exactly one.
    await voice.say(f"pause the {voice.name(octo)}")
    await voice.status(octo, "paused")
    name = voice.name(voron)

    async def say(key: str, conversation_id: str | None = None) -> str:
        return await voice.say(lines[key].format(name=name), language, conversation_id)

    assert (await say("time")).startswith(lines["time_answer"].format(name=name))
    assert (await say("status")).startswith(lines["status_answer"].format(name=name))
    assert await say("list") == lines["list_answer"].format(name=name)
    assert await say("pause") == lines["paused"].format(name=name)
    await voice.status(voron, "paused")
    assert await say("resume") == lines["resumed"].format(name=name)
    await voice.status(voron, "printing")
    assert await say("pause_all") == lines["paused_all"].format(name=name)
    await voice.status(voron, "paused")
    assert (await say("stop", "c1")).endswith(lines["question"])
    assert await say("yes", "c1") == lines["stopped"].format(name=name)
    await voron.runtime_data.client.wait_for_state(
        lambda s: s.status.value in ("cancelled", "idle"), 15
    )


async def _settled(hass: HomeAssistant) -> None:
    """Let the sentence triggers rebuild after a change (their debounce is half a second)."""
    from datetime import timedelta

    from homeassistant.util import dt as dt_util
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()


def test_domain() -> None:
    assert DOMAIN == "printfarm"
