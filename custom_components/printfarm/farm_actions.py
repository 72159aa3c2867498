"""Pause, resume or stop many printers at once: the farm's buttons, actions and voice.

Each printer gets the command only where it makes sense (pause what prints,
resume what is paused, stop what has a job); the others are skipped, not
refused. Every eligible printer is tried, so one printer that fails does not
keep the rest printing on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .const import DOMAIN
from .coordinator import PrintfarmCoordinator
from .farm import async_get_farm_hub
from .helpers import translate_error
from .printers import PrinterError, PrintStatus
from .services import entries_for_devices


class FarmAction(StrEnum):
    """What to do to every chosen printer."""

    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


#: The statuses in which each action applies.
ELIGIBLE: dict[FarmAction, frozenset[PrintStatus]] = {
    FarmAction.PAUSE: frozenset({PrintStatus.PREPARING, PrintStatus.PRINTING}),
    FarmAction.RESUME: frozenset({PrintStatus.PAUSED}),
    FarmAction.STOP: frozenset({PrintStatus.PREPARING, PrintStatus.PRINTING, PrintStatus.PAUSED}),
}


@dataclass(slots=True)
class FarmActionResult:
    """Names of the printers acted on, skipped (nothing to do) and failed (with why)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_response(self) -> ServiceResponse:
        """The action's response."""
        done: list[JsonValueType] = list(self.done)
        skipped: list[JsonValueType] = list(self.skipped)
        failed: dict[str, JsonValueType] = dict(self.failed)
        return {"done": done, "skipped": skipped, "failed": failed}


async def _run(action: FarmAction, coordinator: PrintfarmCoordinator) -> None:
    client = coordinator.client
    if action is FarmAction.PAUSE:
        await client.pause()
    elif action is FarmAction.RESUME:
        await client.resume()
    else:
        await client.stop()


async def async_farm_action(
    hass: HomeAssistant, action: FarmAction, entry_ids: list[str] | None = None
) -> FarmActionResult:
    """Run ``action`` on the chosen printers (every loaded printer when None)."""
    hub = async_get_farm_hub(hass)
    chosen = [
        (entry_id, coordinator)
        for entry_id, coordinator in hub.printers.items()
        if entry_ids is None or entry_id in entry_ids
    ]
    result = FarmActionResult()
    targets: list[tuple[str, PrintfarmCoordinator]] = []
    for entry_id, coordinator in sorted(chosen, key=lambda c: hub.name(c[0]).casefold()):
        name = hub.name(entry_id)
        state = coordinator.data
        if state is None or not state.connected or state.status not in ELIGIBLE[action]:
            result.skipped.append(name)
        else:
            targets.append((name, coordinator))

    outcomes = await asyncio.gather(
        *(_run(action, coordinator) for _name, coordinator in targets), return_exceptions=True
    )
    for (name, _coordinator), outcome in zip(targets, outcomes, strict=True):
        if isinstance(outcome, PrinterError):
            result.failed[name] = str(translate_error(outcome, name))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            result.done.append(name)
    return result


def raise_on_failures(action: FarmAction, result: FarmActionResult) -> None:
    """A translated error naming every printer that did not take the command."""
    if result.failed:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=f"farm_{action.value}_failed",
            translation_placeholders={
                "printers": "; ".join(f"{name}: {why}" for name, why in result.failed.items())
            },
        )


SERVICES = {
    "pause_all": FarmAction.PAUSE,
    "resume_all": FarmAction.RESUME,
    "stop_all": FarmAction.STOP,
}
FARM_ACTION_SCHEMA = vol.Schema(
    {vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string])}
)


async def _async_handle(call: ServiceCall) -> ServiceResponse:
    action = SERVICES[call.service]
    entry_ids = None
    if ATTR_DEVICE_ID in call.data:
        entry_ids = [e.entry_id for e in entries_for_devices(call.hass, call.data[ATTR_DEVICE_ID])]
    result = await async_farm_action(call.hass, action, entry_ids)
    raise_on_failures(action, result)
    return result.as_response() if call.return_response else None


@callback
def async_setup_farm_services(hass: HomeAssistant) -> None:
    """Register pause_all, resume_all and stop_all."""
    for service in SERVICES:
        hass.services.async_register(
            DOMAIN,
            service,
            _async_handle,
            schema=FARM_ACTION_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
        )
