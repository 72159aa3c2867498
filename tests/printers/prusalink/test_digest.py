"""httpx's own DigestAuth against both PrusaLink challenge flavours, and the simulator's verifier.

The Prusa-Link challenge is the one captured from PyPI ``prusalink`` 0.8.1;
the Buddy one is written here in the shape the Buddy firmware sends.
"""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from simulator.prusalink.digest import BuddyDigest, PiDigest, parse_authorization
from tests.conftest import FIXTURES

BUDDY_CHALLENGE = 'Digest realm="Printer API", nonce="0a1b2c3d00001234", stale=false'
URL = "http://127.0.0.1/api/v1/status?x=1"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def answer(challenge: str, user: str = "maker", password: str = "pw", method: str = "GET") -> str:
    """Run httpx's digest flow against one challenge; return its Authorization header."""
    auth = httpx.DigestAuth(user, password)
    request = httpx.Request(method, URL)
    flow = auth.sync_auth_flow(request)
    first = next(flow)
    assert "Authorization" not in first.headers
    retry = flow.send(httpx.Response(401, headers={"WWW-Authenticate": challenge}, request=request))
    return retry.headers["Authorization"]


def pi_challenge() -> str:
    capture = json.loads(
        (FIXTURES / "prusalink" / "live_prusalink-0.8.1_401_digest_challenge.json").read_text()
    )
    challenge: str = capture["headers"]["WWW-Authenticate"]
    return challenge


def test_httpx_answers_buddy_rfc2069_challenge() -> None:
    fields = parse_authorization(answer(BUDDY_CHALLENGE))
    assert fields is not None
    assert "qop" not in fields
    assert "cnonce" not in fields
    assert "opaque" not in fields
    assert fields["realm"] == "Printer API"
    assert fields["uri"] == "/api/v1/status?x=1"
    ha1 = md5("maker:Printer API:pw")
    ha2 = md5("GET:/api/v1/status?x=1")
    assert fields["response"] == md5(f"{ha1}:0a1b2c3d00001234:{ha2}")


def test_httpx_answers_prusa_link_md5_sess_challenge() -> None:
    challenge = pi_challenge()
    sent = parse_authorization(challenge)
    assert sent is not None
    fields = parse_authorization(answer(challenge, user="admin"))
    assert fields is not None
    assert fields["qop"] == "auth"
    assert fields["algorithm"] == "MD5-sess"
    assert fields["opaque"] == sent["opaque"]
    nonce, nc, cnonce = sent["nonce"], fields["nc"], fields["cnonce"]
    ha1 = md5(f"{md5('admin:Administrator:pw')}:{nonce}:{cnonce}")
    ha2 = md5("GET:/api/v1/status?x=1")
    assert fields["response"] == md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buddy_verifier_accepts_httpx_and_flags_stale_nonces() -> None:
    clock = Clock()
    server = BuddyDigest("maker", "pw", nonce_lifetime_s=10, clock=clock)
    challenge = server.challenge("ua")
    header = answer(challenge)
    assert server.verify("GET", "/api/v1/status?x=1", header, "ua").ok
    assert not server.verify("GET", "/api/v1/other", header, "ua").ok
    clock.now += 11
    verdict = server.verify("GET", "/api/v1/status?x=1", header, "ua")
    assert not verdict.ok
    assert verdict.stale
    wrong = answer(server.challenge("ua"), password="nope")
    verdict = server.verify("GET", "/api/v1/status?x=1", wrong, "ua")
    assert not verdict.ok
    assert not verdict.stale


def test_buddy_verifier_nonce_use_limit() -> None:
    server = BuddyDigest("maker", "pw", nonce_max_uses=1)
    header = answer(server.challenge("ua"))
    assert server.verify("GET", "/api/v1/status?x=1", header, "ua").ok
    assert server.verify("GET", "/api/v1/status?x=1", header, "ua").stale


def test_pi_verifier_binds_nonce_to_user_agent() -> None:
    server = PiDigest("admin", "pw")
    header = answer(server.challenge("printfarm"), user="admin")
    assert server.verify("GET", "/api/v1/status?x=1", header, "printfarm").ok
    other = server.verify("GET", "/api/v1/status?x=1", header, "curl/8")
    assert not other.ok
    assert other.stale  # Prusa-Link judges the nonce first: stale, whatever the password
    wrong = answer(server.challenge("printfarm"), user="admin", password="nope")
    verdict = server.verify("GET", "/api/v1/status?x=1", wrong, "printfarm")
    assert not verdict.ok
    assert not verdict.stale


@pytest.mark.parametrize(
    "header",
    [None, "", "Basic bWFrZXI6cHc=", "Digest", 'Digest username="maker"', "Digest garbage"],
)
def test_verifiers_reject_junk(header: str | None) -> None:
    for server in (BuddyDigest("maker", "pw"), PiDigest("maker", "pw")):
        assert not server.verify("GET", "/", header, "ua").ok
