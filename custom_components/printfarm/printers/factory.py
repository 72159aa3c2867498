"""Build the right client for a ConnectionOptions, importing only that protocol."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Protocol, cast

from .models import ConnectionOptions, PrinterKind

if TYPE_CHECKING:
    import aiohttp

    from .base import PrinterClient


class _ClientModule(Protocol):
    def create(
        self, options: ConnectionOptions, session: aiohttp.ClientSession
    ) -> PrinterClient: ...


def create_client(options: ConnectionOptions, session: aiohttp.ClientSession) -> PrinterClient:
    """Return an unconnected client for ``options.kind`` using ``session``."""
    kind = PrinterKind(options.kind)
    module = cast("_ClientModule", import_module(f".{kind.value}", __package__))
    return module.create(options, session)
