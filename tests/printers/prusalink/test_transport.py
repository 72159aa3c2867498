"""PrusaLink HTTP layer: odd challenges, limits and references, with httpx's mock transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import gc

import httpx
import pytest

from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterConnectionError,
    PrinterProtocolError,
)
from custom_components.printfarm.printers.prusalink.transport import USER_AGENT, PrusaLinkHttp

BASE = "http://127.0.0.1:8080"


def make_http(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    password: str | None = "secret-pw",
    api_key: str | None = None,
) -> tuple[PrusaLinkHttp, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    http = PrusaLinkHttp(
        BASE, username="maker", password=password, api_key=api_key, client=client, timeout=1.0
    )
    return http, client


def challenge(header: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": header}, text="401: Unauthorized")

    return handler


async def test_old_buddy_firmware_asking_for_an_api_key() -> None:
    http, client = make_http(challenge('ApiKey realm="Printer API"'))
    async with client:
        with pytest.raises(PrinterAuthError, match="API key"):
            await http.request("GET", "/api/version", max_bytes=1000)


@pytest.mark.parametrize(
    "header",
    ['Digest realm="Printer API"', "Digest garbage", 'Digest realm="x", nonce="n", qop="auth-int"'],
)
async def test_unusable_digest_challenge_is_a_protocol_error(header: str) -> None:
    http, client = make_http(challenge(header))
    async with client:
        with pytest.raises(PrinterProtocolError):
            await http.request("GET", "/api/version", max_bytes=1000)


async def test_api_key_is_sent_with_the_stable_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("X-Api-Key") != "good":
            return httpx.Response(403, text="Bad X-Api-Key.")
        return httpx.Response(200, json={})

    http, client = make_http(handler, password=None, api_key="good")
    async with client:
        reply = await http.request("GET", "/api/version", max_bytes=1000)
    assert reply.status == 200
    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert "Authorization" not in seen[0].headers

    http, client = make_http(handler, password=None, api_key="bad")
    async with client:
        with pytest.raises(PrinterAuthError, match="API key"):
            await http.request("GET", "/api/version", max_bytes=1000)


async def test_streamed_body_over_the_limit_without_content_length() -> None:
    class Chunks:
        """Ten chunks of 100 bytes, with no length announced.

        A plain iterator rather than an async generator: a generator left
        half-read is finalised by a task of its own, after the test.
        """

        def __init__(self) -> None:
            self.left = 10

        def __aiter__(self) -> Chunks:
            return self

        async def __anext__(self) -> bytes:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return b"x" * 100

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=Chunks())

    http, client = make_http(handler)
    async with client:
        with pytest.raises(PrinterProtocolError, match="limit"):
            await http.request("GET", "/api/v1/status", max_bytes=500)
        # httpx's half-read body generators are closed by the event loop in tasks
        # of their own once collected; let those run before the test ends.
        gc.collect()
        for _ in range(3):
            await asyncio.sleep(0)
        reply = await http.request("GET", "/api/v1/status", max_bytes=5000)
    assert len(reply.body) == 1000


async def test_connection_refused_is_a_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http, client = make_http(handler)
    async with client:
        with pytest.raises(PrinterConnectionError):
            await http.request("GET", "/api/version", max_bytes=1000)


@pytest.mark.parametrize(
    "ref",
    ["http://evil.example/thumb.png", "//evil.example/x", "http://127.0.0.1:9999/x"],
)
async def test_references_to_other_hosts_are_refused(ref: str) -> None:
    http, client = make_http(challenge("unused"))
    async with client:
        with pytest.raises(PrinterProtocolError):
            http.url(ref)
        assert str(http.url("/thumb/s/usb/A~1.BGC")) == f"{BASE}/thumb/s/usb/A~1.BGC"
