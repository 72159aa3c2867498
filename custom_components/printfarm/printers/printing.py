"""Starting prints: the file list, a start, a reprint; one flow for every kind that can.

A kind that can start stored files sets ``Capabilities.print_files`` (and
``reprint`` where it knows its last job) and implements three hooks: read its
file list, send the start of one file, and name the last job's file. The
checks, the bounds and the confirmation are the same for all of them: a start
is refused while a job is under way (``busy``), for an empty or hostile path
(``no_file``, ``invalid_value``) and for a file the printer does not have
(``file_not_found``), and it counts as done only when the printer reports that
file preparing or printing.
"""

from __future__ import annotations

from typing import ClassVar

from . import commands as cmd
from .engine import Ack, CommandEngine
from .exceptions import PrinterCommandError, PrinterNotSupportedError, Reason
from .limits import MAX_FILES
from .models import PrinterKind, PrintFile


class Printing(CommandEngine):
    """``list_files()``, ``start_print()`` and ``reprint()`` over the kind's three hooks."""

    kind: ClassVar[PrinterKind]

    def __init__(self) -> None:
        """No file list read yet."""
        super().__init__()
        self._files: tuple[PrintFile, ...] = ()

    def _cannot(self, what: str) -> PrinterNotSupportedError:
        return PrinterNotSupportedError(f"{self.kind} printer {self.host} cannot {what}")

    @property
    def files(self) -> tuple[PrintFile, ...]:
        """The file list as last read by ``list_files()`` (newest first)."""
        return self._files

    async def list_files(self) -> tuple[PrintFile, ...]:
        """Read the files the printer can print, newest first, at most ``MAX_FILES``."""
        if not self._capabilities.print_files:
            raise self._cannot("list its files")
        files = await self._list_files()
        unique = {f.path: f for f in files}
        newest = sorted(unique.values(), key=lambda f: (-(f.modified or 0.0), f.name))
        self._files = tuple(newest[:MAX_FILES])
        return self._files

    async def start_print(self, path: str) -> None:
        """Start the stored file ``path``; returns when the printer reports it printing.

        Raises PrinterNotSupportedError where the kind cannot start files and
        PrinterCommandError ``no_file``, ``invalid_value``, ``busy``,
        ``file_not_found`` or ``not_confirmed``.
        """
        if not self._capabilities.print_files:
            raise self._cannot("start a stored file")
        path = cmd.check_file_path(path)
        known = next((f for f in self._files if f.path == path), None)
        command = cmd.start_print(path, known.name if known else None, self._state)
        self._require(command)  # busy or offline: refused before anything is sent
        await self._run(command, lambda: self._send_start(path))

    async def reprint(self) -> None:
        """Start the last job's file again; ``no_file`` when the printer knows of none."""
        if not self._capabilities.reprint:
            raise self._cannot("print its last job again")
        self._require(cmd.start_print("-", None, self._state))
        path = await self._last_job_file()
        if not path:
            raise PrinterCommandError(
                f"reprint: {self.host} reports no previous job", reason=Reason.NO_FILE
            )
        await self.start_print(path)

    # ------------------------------------------------------------ kind hooks

    async def _list_files(self) -> list[PrintFile]:
        """Read the printer's printable files (any order; bounded by the reader)."""
        raise self._cannot("list its files")

    async def _send_start(self, path: str) -> Ack:
        """Send the start of ``path``; raise ``file_not_found`` when the printer has none."""
        raise self._cannot("start a stored file")

    async def _last_job_file(self) -> str | None:
        """The path of the last job's file, as ``start_print`` takes it (None: none)."""
        raise self._cannot("print its last job again")
