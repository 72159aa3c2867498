"""One push coordinator per printer, fed by the protocol client's listener."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN, LOGGER
from .issues import async_delete_issues, async_sync_issues
from .print_files import PrintFiles
from .printers import PrinterAuthError, PrinterClient, PrinterError, PrinterNotice, PrinterState

type PrintfarmConfigEntry = ConfigEntry[PrintfarmCoordinator]


class PrintfarmCoordinator(DataUpdateCoordinator[PrinterState]):
    """Keeps ``data`` equal to the client's latest state.

    The client pushes (or polls on its own cadence, for brands that cannot
    push); the coordinator never polls. A connection loss is not an update
    failure: the state says ``offline`` and entities decide what that means.
    """

    config_entry: PrintfarmConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: PrintfarmConfigEntry, client: PrinterClient
    ) -> None:
        """Wrap an unconnected client."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,
            always_update=False,
        )
        self.client = client
        #: The printer's file list and the file chosen to print (kinds that start files).
        self.files = PrintFiles(client, self.async_update_listeners)
        self._remove_listener: Callable[[], None] | None = None
        self._reauth_started = False
        self._was_connected = True
        self._notices: frozenset[PrinterNotice] | None = None  # as last put in the registry

    async def _async_setup(self) -> None:
        """Connect once; errors become not-ready or reauth."""
        placeholders = {"name": self.config_entry.title}
        try:
            await self.client.connect()
        except PrinterAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key=err.reason.value,
                translation_placeholders=placeholders,
            ) from err
        except PrinterError as err:
            # e.g. firmware too old, no free connection slot: tell the user why
            self._sync_issues(self.client.state.notices)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.reason.value,
                translation_placeholders=placeholders,
            ) from err
        self._sync_issues(self.client.state.notices)
        self._remove_listener = self.client.add_listener(self._on_state)
        self._read_files()

    @callback
    def _read_files(self) -> None:
        """Read the file list in the background (on connect and after each reconnect)."""
        if self.client.capabilities.print_files:
            self.config_entry.async_create_background_task(
                self.hass, self.files.async_refresh_quietly(), f"{DOMAIN} files {self.name}"
            )

    async def _async_update_data(self) -> PrinterState:
        """A refresh asks the printer for its full state."""
        try:
            return await self.client.refresh()
        except PrinterAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key=err.reason.value,
                translation_placeholders={"name": self.config_entry.title},
            ) from err
        except PrinterError:
            # Offline is a state, not a failed update: the status sensor says so.
            return self.client.state

    @callback
    def _on_state(self, state: PrinterState) -> None:
        if state.connected != self._was_connected:
            # Once each way, not on every failed reconnect attempt.
            self._was_connected = state.connected
            if state.connected:
                LOGGER.info("Printer %s is back online", self.config_entry.title)
                self._read_files()
            else:
                LOGGER.info("Printer %s went offline", self.config_entry.title)
        if (
            not state.connected
            and isinstance(self.client.last_error, PrinterAuthError)
            and not self._reauth_started
        ):
            self._reauth_started = True
            self.config_entry.async_start_reauth(self.hass)
        self._sync_issues(state.notices)
        self.async_set_updated_data(state)

    @callback
    def _sync_issues(self, notices: frozenset[PrinterNotice]) -> None:
        """Mirror the printer's notices into repair issues when they change."""
        if notices != self._notices:
            self._notices = notices
            async_sync_issues(self.hass, self.config_entry, notices)

    async def async_shutdown(self) -> None:
        """Detach from the client and close every connection it holds."""
        await super().async_shutdown()
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
            # Unloading a loaded entry takes its issues along; a failed setup keeps
            # the one that says why (removing the entry deletes it).
            async_delete_issues(self.hass, self.config_entry.entry_id)
        await self.client.close()
