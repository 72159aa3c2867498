"""OctoPrint's App Keys flow: how an app obtains an API key without copy/paste.

1. ``probe_app_keys()``: is the plugin there (``GET /plugin/appkeys/probe`` -> 204)?
2. ``request_app_key(app)``: ask for a key (``POST /plugin/appkeys/request``
   -> 201 with an app token). The user approves in OctoPrint's UI.
3. ``poll_app_key(token)`` every few seconds (polling keeps the request
   alive): ``None`` while pending (202), the key once (200), then
   PrinterAuthError (404: denied, expired or already fetched).

OctoPrint rate-limits requests (3 a minute, 5 in 10 minutes, 10 an hour):
a 429 raises :class:`AppKeyRateLimitedError` with ``retry_after`` seconds.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..exceptions import (
    PrinterAuthError,
    PrinterCommandError,
    PrinterNotSupportedError,
    PrinterProtocolError,
    Reason,
)
from .parse import as_dict, as_str, parse_error

#: How long the user has to click Allow in OctoPrint, and how often we ask.
APP_KEY_TIMEOUT = 300.0
APP_KEY_POLL_INTERVAL = 1.0


class AppKeyRateLimitedError(PrinterCommandError):
    """OctoPrint throttled the app-key requests; try again after ``retry_after`` s."""

    default_reason = Reason.RATE_LIMITED

    def __init__(self, message: str, retry_after: float | None) -> None:
        """Keep how long to wait (None when OctoPrint did not say)."""
        super().__init__(message)
        self.retry_after = retry_after


class AppKeysMixin:
    """App-key methods of the OctoPrint client (they need no API key)."""

    if TYPE_CHECKING:

        async def _request(
            self,
            method: str,
            path: str,
            *,
            json: dict[str, Any] | None = None,
            auth: bool = True,
        ) -> tuple[int, Any]: ...

    async def probe_app_keys(self) -> bool:
        """Whether the server supports the App Keys flow."""
        status, _ = await self._request("GET", "plugin/appkeys/probe", auth=False)
        return status == 204

    async def request_app_key(self, app_name: str, user: str | None = None) -> str:
        """Start a key request for ``app_name``; returns the app token to poll with."""
        payload: dict[str, Any] = {"app": app_name}
        if user:
            payload["user"] = user
        status, body = await self._request(
            "POST", "plugin/appkeys/request", json=payload, auth=False
        )
        if status == 429:
            raise AppKeyRateLimitedError(
                "OctoPrint limits app-key requests; wait before asking again",
                retry_after=_retry_after(body),
            )
        if status == 404:
            raise PrinterNotSupportedError("OctoPrint has no App Keys plugin (disabled?)")
        if status not in (200, 201):
            raise PrinterProtocolError(f"app-key request: HTTP {status} {parse_error(body) or ''}")
        token = as_str(as_dict(body).get("app_token"))
        if token is None:
            raise PrinterProtocolError("app-key request: no app_token in the answer")
        return token

    async def poll_app_key(self, token: str) -> str | None:
        """The granted API key, or None while the user has not decided.

        Raises PrinterAuthError when the request was denied or has expired.
        """
        status, body = await self._request(
            "GET", f"plugin/appkeys/request/{quote(token, safe='')}", auth=False
        )
        if status == 202:
            return None
        if status == 200:
            key = as_str(as_dict(body).get("api_key"))
            if key is None:
                raise PrinterProtocolError("app-key poll: no api_key in the answer")
            return key
        if status == 404:
            raise PrinterAuthError(
                "the app-key request was denied or has expired", reason=Reason.PAIRING_DENIED
            )
        if status == 429:
            raise AppKeyRateLimitedError("OctoPrint limits app-key polls", retry_after=None)
        raise PrinterProtocolError(f"app-key poll: HTTP {status}")

    async def pair(self, app_name: str) -> dict[str, str]:
        """Ask OctoPrint for a key, wait while the user decides there; ``{"api_key": ...}``.

        Raises PrinterAuthError (``pairing_denied``) when the user denies it or
        nobody answers within ``APP_KEY_TIMEOUT`` seconds.
        """
        token = await self.request_app_key(app_name)
        try:
            async with asyncio.timeout(APP_KEY_TIMEOUT):
                while True:
                    # polling keeps the request alive in OctoPrint; the user decides there
                    if (key := await self.poll_app_key(token)) is not None:
                        break
                    await asyncio.sleep(APP_KEY_POLL_INTERVAL)
        except TimeoutError as err:
            # Nobody clicked Allow in time: the same as OctoPrint's own expiry.
            raise PrinterAuthError(
                "the app-key request expired", reason=Reason.PAIRING_DENIED
            ) from err
        return {"api_key": key}


def _retry_after(body: object) -> float | None:
    """OctoPrint's limiter answers with a text body; no machine-readable delay."""
    del body
    return 60.0
