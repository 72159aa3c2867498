"""The files a printer can print, as Home Assistant offers them: read on connect and on demand.

One ``PrintFiles`` per printer coordinator holds the file list last read from
the printer and the file the user chose in the file select; the start button
prints that choice. The list is read when the printer connects (and again
after every reconnect) and whenever the refresh button is pressed.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib

from homeassistant.core import callback

from .const import LOGGER
from .printers import PrinterClient, PrinterError, PrintFile


class PrintFiles:
    """The printer's file list and the file chosen to print next."""

    def __init__(self, client: PrinterClient, changed: Callable[[], None]) -> None:
        """Nothing read yet; ``changed`` tells the entities to show the new list."""
        self._client = client
        self._changed = changed
        self.selected: str | None = None

    @property
    def files(self) -> tuple[PrintFile, ...]:
        """The files last read from the printer, newest first."""
        return self._client.files

    @property
    def paths(self) -> list[str]:
        """The paths of ``files``: the options of the file select."""
        return [file.path for file in self.files]

    async def async_refresh(self) -> None:
        """Read the list from the printer now; the chosen file stays chosen while it exists."""
        await self._client.list_files()
        if self.selected not in self.paths:
            self.selected = None
        self._changed()

    async def async_refresh_quietly(self) -> None:
        """``async_refresh()`` on connect: a printer that cannot list now keeps the old list."""
        with contextlib.suppress(PrinterError):
            await self.async_refresh()
            return
        LOGGER.debug("Could not read the file list of %s", self._client.host)

    @callback
    def select(self, path: str) -> None:
        """Choose the file the start button prints."""
        self.selected = path
        self._changed()
