"""The detection add-on in Home Assistant: its config entry, and its entities on printers.

The add-on has a config entry of its own (found by Supervisor discovery, or
added with its URL and API key). Its coordinator keeps the add-on's view of
every printer, pushed over the add-on's WebSocket and re-read every few minutes.
The entities live on each printer's device and belong to that printer's config
entry (a device stays with one entry): each printer entry's platforms ask the
``DetectionHub`` whether the add-on watches their device, and add their
detection entities once it does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util.hass_dict import HassKey

from .addon import (
    DetectionAuthError,
    DetectionClient,
    DetectionConnectionError,
    DetectionError,
    PrinterDetection,
)
from .const import CONF_KIND, DOMAIN, KIND_ADDON, LOGGER

type DetectionConfigEntry = ConfigEntry[DetectionCoordinator]

POLL_INTERVAL = timedelta(minutes=5)
STREAM_BACKOFF = (2.0, 5.0, 15.0, 60.0)
HUB_KEY: HassKey[DetectionHub] = HassKey(f"{DOMAIN}_detection")


def is_addon_entry(entry: ConfigEntry) -> bool:
    """Whether a printfarm entry is the detection add-on rather than a printer."""
    return entry.data.get(CONF_KIND) == KIND_ADDON


class DetectionCoordinator(DataUpdateCoordinator[dict[str, PrinterDetection]]):
    """The add-on's printers, keyed by the add-on's printer key."""

    config_entry: DetectionConfigEntry

    def __init__(self, hass: HomeAssistant, entry: DetectionConfigEntry) -> None:
        """Client from the entry's URL and key."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} detection",
            update_interval=POLL_INTERVAL,
            always_update=False,
        )
        self.client = DetectionClient(
            async_get_clientsession(hass), entry.data[CONF_URL], entry.data[CONF_API_KEY]
        )

    async def _async_update_data(self) -> dict[str, PrinterDetection]:
        try:
            return await self.client.printers()
        except DetectionAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="addon_invalid_auth"
            ) from err
        except DetectionError as err:
            LOGGER.debug("The detection add-on did not answer: %s", err)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="addon_unreachable",
            ) from err

    async def async_stream(self) -> None:
        """Follow the add-on's pushes for as long as the entry is loaded."""
        attempt = 0
        while True:
            try:
                async for update in self.client.stream():
                    attempt = 0
                    if isinstance(update, dict):
                        self.async_set_updated_data(update)
                    else:
                        self.async_set_updated_data({**(self.data or {}), update.key: update})
            except DetectionAuthError:
                self.config_entry.async_start_reauth(self.hass)
                return
            except DetectionConnectionError as err:
                LOGGER.debug("Detection add-on stream: %s", err)
            except DetectionError as err:
                LOGGER.warning("Detection add-on stream: %s", err)
            delay = STREAM_BACKOFF[min(attempt, len(STREAM_BACKOFF) - 1)]
            attempt += 1
            await asyncio.sleep(delay)
            await self.async_request_refresh()

    def by_device(self, device_id: str) -> PrinterDetection | None:
        """The add-on's view of a printer device."""
        for printer in (self.data or {}).values():
            if printer.device_id == device_id:
                return printer
        return None


class DetectionHub:
    """Connects the add-on's coordinator with the printers' detection entities."""

    def __init__(self) -> None:
        """No add-on yet."""
        self.coordinator: DetectionCoordinator | None = None
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsub: CALLBACK_TYPE | None = None

    @callback
    def attach(self, coordinator: DetectionCoordinator) -> None:
        """The add-on's entry loaded."""
        self.detach()
        self.coordinator = coordinator
        self._unsub = coordinator.async_add_listener(self._notify)
        self._notify()

    @callback
    def detach(self) -> None:
        """The add-on's entry unloaded: its entities become unavailable."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        if self.coordinator is not None:
            self.coordinator = None
            self._notify()

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Called on every change; returns the remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def printer(self, device_id: str) -> PrinterDetection | None:
        """The add-on's current view of a device, when it is connected and watches it."""
        coordinator = self.coordinator
        if coordinator is None or not coordinator.last_update_success:
            return None
        return coordinator.by_device(device_id)

    def client(self) -> DetectionClient:
        """The add-on's client, or a translated error when there is no add-on."""
        if self.coordinator is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="addon_missing")
        return self.coordinator.client

    async def async_call(self, call: Callable[[DetectionClient], Any]) -> Any:
        """Run a client call; the add-on's view refreshes after it."""
        try:
            result = await call(self.client())
        except DetectionError as err:
            LOGGER.debug("The detection add-on did not answer: %s", err)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="addon_unreachable",
            ) from err
        if isinstance(result, PrinterDetection) and self.coordinator is not None:
            data = self.coordinator.data or {}
            self.coordinator.async_set_updated_data({**data, result.key: result})
        return result


@callback
def async_get_hub(hass: HomeAssistant) -> DetectionHub:
    """The one hub of this Home Assistant."""
    if (hub := hass.data.get(HUB_KEY)) is None:
        hub = hass.data[HUB_KEY] = DetectionHub()
    return hub


@dataclass(frozen=True, slots=True)
class PrinterLink:
    """What a detection entity needs: the hub, the printer's device, its device info."""

    hub: DetectionHub
    device_id: str
    unique_prefix: str
    device_info: DeviceInfo


@callback
def async_add_detection_entities(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    printer_unique_id: str,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[PrinterLink], Iterable[Entity]],
) -> None:
    """Add a printer's detection entities as soon as the add-on watches its device."""
    hub = async_get_hub(hass)
    added = False

    @callback
    def check() -> None:
        nonlocal added
        if added:
            return
        registry = dr.async_get(hass)
        devices = dr.async_entries_for_config_entry(registry, entry.entry_id)
        device = next((d for d in devices if (DOMAIN, printer_unique_id) in d.identifiers), None)
        if device is None or hub.printer(device.id) is None:
            return
        added = True
        link = PrinterLink(
            hub=hub,
            device_id=device.id,
            unique_prefix=printer_unique_id,
            device_info=DeviceInfo(identifiers={(DOMAIN, printer_unique_id)}),
        )
        async_add_entities(build(link))

    @callback
    def device_changed(_event: Event[dr.EventDeviceRegistryUpdatedData]) -> None:
        check()

    entry.async_on_unload(hub.async_add_listener(check))
    # The device is registered once the printer's first entities are added: look again then.
    entry.async_on_unload(hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, device_changed))
    hass.loop.call_soon(check)


class DetectionEntity(Entity):
    """An entity showing or steering the add-on's detection for one printer."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, link: PrinterLink, description: EntityDescription) -> None:
        """Bind to the printer's device."""
        self.link = link
        self.entity_description = description
        self._attr_unique_id = f"{link.unique_prefix}_{description.key}"
        self._attr_device_info = link.device_info

    @property
    def printer(self) -> PrinterDetection | None:
        """The add-on's current view of this printer."""
        return self.link.hub.printer(self.link.device_id)

    @property
    def available(self) -> bool:
        """Available while the add-on is connected and watches the printer."""
        return self.printer is not None

    async def async_added_to_hass(self) -> None:
        """Follow the hub."""
        await super().async_added_to_hass()
        self.async_on_remove(self.link.hub.async_add_listener(self._hub_updated))

    @callback
    def _hub_updated(self) -> None:
        self.async_write_ha_state()


async def async_setup_addon_entry(hass: HomeAssistant, entry: DetectionConfigEntry) -> bool:
    """Connect to the add-on; its printers' entities follow on their own entries."""
    coordinator = DetectionCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    hub = async_get_hub(hass)
    hub.attach(coordinator)
    entry.async_on_unload(hub.detach)
    entry.async_create_background_task(
        hass, coordinator.async_stream(), f"{DOMAIN} detection stream"
    )
    return True


async def async_unload_addon_entry(hass: HomeAssistant, entry: DetectionConfigEntry) -> bool:
    """Nothing to unload but the stream and the hub link (both via async_on_unload)."""
    return True
