"""Build the right client for a ConnectionOptions, importing only that protocol."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Protocol, cast

from .models import ConnectionOptions, PrinterKind

if TYPE_CHECKING:
    import aiohttp

    from .base import PrinterClient
    from .httpx_compat import httpx


class _ClientModule(Protocol):
    def create(
        self, options: ConnectionOptions, session: aiohttp.ClientSession
    ) -> PrinterClient: ...


class _HttpxClientModule(Protocol):
    def create(
        self,
        options: ConnectionOptions,
        session: aiohttp.ClientSession,
        *,
        httpx_client: httpx.AsyncClient | None = None,
    ) -> PrinterClient: ...


#: Protocols whose client speaks httpx and accepts a shared ``httpx.AsyncClient``.
_HTTPX_KINDS = frozenset({PrinterKind.PRUSALINK})


def create_client(
    options: ConnectionOptions,
    session: aiohttp.ClientSession,
    *,
    httpx_client: httpx.AsyncClient | None = None,
) -> PrinterClient:
    """Return an unconnected client for ``options.kind`` using ``session``.

    ``httpx_client`` is the shared httpx client for the one protocol that
    speaks httpx (PrusaLink, for its digest flavours); the client uses it and
    never closes it. Without one, that client builds and closes its own.
    """
    kind = PrinterKind(options.kind)
    # By its absolute name: Home Assistant lets an import in the event loop pass
    # only when that name is already in sys.modules (its client.py imports them all).
    module = import_module(f"{__package__}.{kind.value}")
    if kind in _HTTPX_KINDS:
        httpx_module = cast("_HttpxClientModule", module)
        return httpx_module.create(options, session, httpx_client=httpx_client)
    return cast("_ClientModule", module).create(options, session)
