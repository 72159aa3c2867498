"""A small client for Home Assistant's REST and WebSocket APIs (aiohttp)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


class HaApiError(Exception):
    """Home Assistant answered with an unexpected status or message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the HTTP status for callers that branch on it."""
        super().__init__(message)
        self.status = status


class HaApi:
    """REST and WebSocket calls against one Home Assistant, with an optional bearer token."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str | None = None
    ) -> None:
        """``base_url`` like ``http://127.0.0.1:8123`` (no trailing slash)."""
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token

    @property
    def client_id(self) -> str:
        """The OAuth client id the frontend uses for this instance."""
        return f"{self.base_url}/"

    @property
    def websocket_url(self) -> str:
        """``ws://host:port/api/websocket``."""
        return self.base_url.replace("http", "ws", 1) + "/api/websocket"

    def with_token(self, token: str) -> HaApi:
        """The same instance, authenticated."""
        return HaApi(self.session, self.base_url, token)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        auth: bool = True,
        expect: tuple[int, ...] = (200,),
    ) -> Any:
        """One call; the decoded JSON (or text) body. Raises HaApiError on another status."""
        headers: dict[str, str] = {}
        if auth:
            if self.token is None:
                raise HaApiError(f"{method} {path} needs a token")
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.request(
            method,
            self.base_url + path,
            json=json,
            data=form,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        ) as response:
            body: Any
            if response.content_type == "application/json":
                body = await response.json()
            else:
                body = await response.text()
            if response.status not in expect:
                raise HaApiError(
                    f"{method} {path}: HTTP {response.status}: {str(body)[:300]}",
                    response.status,
                )
            return body

    async def get(self, path: str, **kwargs: Any) -> Any:
        """GET."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        """POST."""
        return await self.request("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Any:
        """DELETE."""
        return await self.request("DELETE", path, **kwargs)

    async def ws_command(self, command: Mapping[str, Any], access_token: str | None = None) -> Any:
        """Authenticate on the WebSocket API, send one command, return its result."""
        token = access_token or self.token
        if token is None:
            raise HaApiError("the WebSocket API needs a token")
        async with self.session.ws_connect(
            self.websocket_url, timeout=aiohttp.ClientWSTimeout(ws_close=10.0)
        ) as ws:
            hello = await ws.receive_json(timeout=30)
            if hello.get("type") != "auth_required":
                raise HaApiError(f"unexpected WebSocket greeting: {hello}")
            await ws.send_json({"type": "auth", "access_token": token})
            answer = await ws.receive_json(timeout=30)
            if answer.get("type") != "auth_ok":
                raise HaApiError(f"WebSocket auth failed: {answer.get('message', answer)}", 401)
            await ws.send_json({"id": 1, **command})
            while True:
                message = await ws.receive_json(timeout=60)
                if message.get("id") == 1 and message.get("type") == "result":
                    break
            if not message.get("success"):
                error = message.get("error") or {}
                raise HaApiError(f"{command.get('type')}: {error.get('message', message)}")
            return message.get("result")
