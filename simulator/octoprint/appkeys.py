"""The App Keys plugin of the simulated OctoPrint: request, poll, decide."""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from ..base import SimOptions
from .payloads import FORBIDDEN, _error, _json


class AppKeys:
    """OctoPrint's app-key endpoints and the decision its UI dialog makes."""

    options: SimOptions
    port: int
    admin: str
    appkey_auto_approve: int | None
    appkey_rate_limit: bool
    app_keys: dict[str, str]
    _pending: dict[str, dict[str, Any]]
    _granted: dict[str, str]
    _requests: list[float]

    def _user_for(self, request: web.Request) -> str | None:
        raise NotImplementedError

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raise NotImplementedError

    async def _appkeys_probe(self, _: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _appkeys_request(self, request: web.Request) -> web.Response:
        if self.appkey_rate_limit:
            now = time.monotonic()
            self._requests = [t for t in self._requests if now - t < 60]
            if len(self._requests) >= 3:
                return web.Response(status=429, text="Too Many Requests")
            self._requests.append(now)
        data = await self._body(request)
        app = data.get("app")
        if not isinstance(app, str) or not app:
            return _error(400, "No app name provided")
        user = data.get("user") if isinstance(data.get("user"), str) else None
        token = secrets.token_urlsafe(16)
        self._pending[token] = {
            "app_id": app,
            "user_id": user,
            "user_token": secrets.token_urlsafe(16),
            "polls": 0,
        }
        base = f"http://{self.options.host}:{self.port}"
        dialog = f"{base}/plugin/appkeys/auth/{token}" + (f"?user={user}" if user else "")
        return web.json_response(
            {"app_token": token, "auth_dialog": dialog},
            status=201,
            headers={"Location": f"{base}/plugin/appkeys/request/{token}"},
        )

    async def _appkeys_poll(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token in self._granted:
            return _json({"api_key": self._granted.pop(token)})
        pending = self._pending.get(token)
        if pending is None:
            return web.Response(status=404)
        pending["polls"] += 1
        if self.appkey_auto_approve is not None and pending["polls"] > self.appkey_auto_approve:
            self.decide(pending["user_token"], approve=True)
            return _json({"api_key": self._granted.pop(token)})
        return _json({"message": "Awaiting decision"}, 202)

    def decide(self, user_token: str, *, approve: bool) -> bool:
        """Approve or deny a pending app-key request (what the UI dialog does)."""
        for token, pending in list(self._pending.items()):
            if pending["user_token"] == user_token:
                del self._pending[token]
                if approve:
                    key = secrets.token_hex(16).upper()
                    self.app_keys[key] = str(pending["app_id"])
                    self._granted[token] = key
                return True
        return False

    def approve_all(self) -> None:
        """Approve every pending app-key request."""
        for pending in list(self._pending.values()):
            self.decide(pending["user_token"], approve=True)

    async def _appkeys_decision(self, request: web.Request) -> web.Response:
        if self._user_for(request) is None:
            return _error(403, FORBIDDEN)
        data = await self._body(request)
        if not self.decide(request.match_info["token"], approve=bool(data.get("decision"))):
            return web.Response(status=404)
        return web.Response(status=204)

    async def _appkeys_list(self, _: web.Request) -> web.Response:
        pending = {
            p["user_token"]: {
                "app_id": p["app_id"],
                "remote_address": "127.0.0.1",
                "user_id": p["user_id"] or self.admin,
                "user_token": p["user_token"],
            }
            for p in self._pending.values()
        }
        keys = [
            {"api_key": k, "app_id": a, "user_id": self.admin} for k, a in self.app_keys.items()
        ]
        return _json({"keys": keys, "pending": pending})
