"""Server side of HTTP Digest, as the two PrusaLink servers do it.

* Buddy firmware: realm ``Printer API``, RFC 2069 (no ``qop``, no
  ``opaque``), a 16-hex nonce (8 random + 8 time-derived) that goes stale
  after a lifetime or a number of uses; a correct answer with a stale nonce
  gets ``stale=true``.
* Prusa-Link on a Pi: realm ``Administrator``, ``qop="auth"``,
  ``algorithm="MD5-sess"``, ``opaque``, 64-hex nonces remembered together with
  the User-Agent they were issued to. A nonce that is unknown, expired or sent
  with another User-Agent is answered with ``stale=true`` before the
  credentials are even looked at (Prusa-Link checks its token first).

This is the verifier a test server needs; clients use httpx's implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import hmac
import re
import secrets
import time

_FIELD = re.compile(r"""(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))""")


def md5_hex(text: str) -> str:
    """Lower-case hex MD5 of a UTF-8 string."""
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the protocol says MD5


def parse_authorization(header: str | None) -> dict[str, str] | None:
    """Fields of an ``Authorization: Digest ...`` header, or None for anything else."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {
        key.lower(): quoted if quoted or plain == "" else plain
        for key, quoted, plain in _FIELD.findall(rest)
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of checking one Authorization header."""

    ok: bool
    stale: bool = False


class DigestServer(ABC):
    """Issues challenges and checks answers for one user."""

    realm: str
    #: Prusa-Link checks the nonce (stale=true) before the credentials; Buddy after.
    nonce_first: bool = False

    def __init__(
        self,
        username: str,
        password: str,
        *,
        nonce_lifetime_s: float = 300.0,
        nonce_max_uses: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Keep the one account this server knows."""
        self.username = username
        self.password = password
        self.nonce_lifetime_s = nonce_lifetime_s
        self.nonce_max_uses = nonce_max_uses
        self.force_stale = 0  # tests: answer the next N correct requests with stale=true
        self._clock = clock
        self._uses: dict[str, int] = {}

    @abstractmethod
    def challenge(self, user_agent: str, *, stale: bool = False) -> str:
        """A fresh ``WWW-Authenticate`` value."""

    @abstractmethod
    def _expected(self, fields: dict[str, str], method: str) -> str | None:
        """The response hash a correct client sends, or None if fields are missing."""

    @abstractmethod
    def _nonce_state(self, nonce: str, user_agent: str) -> str:
        """``"valid"``, ``"stale"`` or ``"invalid"`` for this nonce and User-Agent."""

    def verify(self, method: str, uri: str, header: str | None, user_agent: str) -> Verdict:
        """Check an Authorization header for a request to ``uri`` (path and query)."""
        fields = parse_authorization(header)
        if fields is None:
            return Verdict(ok=False)
        if self.nonce_first and self._nonce_state(fields.get("nonce", ""), user_agent) != "valid":
            return Verdict(ok=False, stale=True)
        if fields.get("username") != self.username or fields.get("realm") != self.realm:
            return Verdict(ok=False)
        if fields.get("uri") != uri:
            return Verdict(ok=False)
        expected = self._expected(fields, method)
        if expected is None or not hmac.compare_digest(expected, fields.get("response", "")):
            return Verdict(ok=False)
        nonce = fields.get("nonce", "")
        state = self._nonce_state(nonce, user_agent)
        if state == "invalid":
            return Verdict(ok=False)
        uses = self._uses.get(nonce, 0) + 1
        self._uses[nonce] = uses
        if self.nonce_max_uses is not None and uses > self.nonce_max_uses:
            state = "stale"
        if self.force_stale > 0:
            self.force_stale -= 1
            state = "stale"
        return Verdict(ok=state == "valid", stale=state == "stale")

    def _ha1(self) -> str:
        return md5_hex(f"{self.username}:{self.realm}:{self.password}")


class BuddyDigest(DigestServer):
    """Buddy firmware: RFC 2069, time-derived nonce, ``stale`` flag."""

    realm = "Printer API"

    def challenge(self, user_agent: str, *, stale: bool = False) -> str:
        """``Digest realm="Printer API", nonce="<16 hex>", stale=false``."""
        stamp = int(self._clock()) & 0xFFFFFFFF
        nonce = f"{secrets.token_hex(4)}{stamp:08x}"
        flag = "true" if stale else "false"
        return f'Digest realm="{self.realm}", nonce="{nonce}", stale={flag}'

    def _expected(self, fields: dict[str, str], method: str) -> str | None:
        nonce, uri = fields.get("nonce"), fields.get("uri")
        if not nonce or uri is None:
            return None
        return md5_hex(f"{self._ha1()}:{nonce}:{md5_hex(f'{method}:{uri}')}")

    def _nonce_state(self, nonce: str, user_agent: str) -> str:
        if len(nonce) != 16:
            return "invalid"
        try:
            stamp = int(nonce[8:], 16)
        except ValueError:
            return "invalid"
        age = (int(self._clock()) & 0xFFFFFFFF) - stamp
        return "valid" if 0 <= age <= self.nonce_lifetime_s else "stale"


class PiDigest(DigestServer):
    """Prusa-Link: qop=auth, MD5-sess, opaque, nonce bound to the User-Agent."""

    realm = "Administrator"
    nonce_first = True

    def __init__(
        self,
        username: str,
        password: str,
        *,
        nonce_lifetime_s: float = 300.0,
        nonce_max_uses: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Also pick the server's opaque value."""
        super().__init__(
            username,
            password,
            nonce_lifetime_s=nonce_lifetime_s,
            nonce_max_uses=nonce_max_uses,
            clock=clock,
        )
        self.opaque = secrets.token_hex(32)
        self._issued: dict[str, tuple[str, float]] = {}

    def challenge(self, user_agent: str, *, stale: bool = False) -> str:
        """``Digest realm="Administrator",qop="auth",algorithm="MD5-sess",nonce=..,opaque=..``."""
        nonce = secrets.token_hex(32)
        self._issued[nonce] = (user_agent, self._clock())
        if len(self._issued) > 1024:  # forget the oldest
            self._issued.pop(next(iter(self._issued)))
        value = (
            f'Digest realm="{self.realm}",qop="auth",algorithm="MD5-sess",'
            f'nonce="{nonce}",opaque="{self.opaque}"'
        )
        return value + (",stale=true" if stale else "")

    def _expected(self, fields: dict[str, str], method: str) -> str | None:
        nonce, uri = fields.get("nonce"), fields.get("uri")
        nc, cnonce = fields.get("nc"), fields.get("cnonce")
        if not nonce or uri is None or not nc or not cnonce:
            return None
        if fields.get("qop") != "auth" or fields.get("opaque") != self.opaque:
            return None
        if fields.get("algorithm", "").upper() != "MD5-SESS":
            return None
        ha1 = md5_hex(f"{self._ha1()}:{nonce}:{cnonce}")
        ha2 = md5_hex(f"{method}:{uri}")
        return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")

    def _nonce_state(self, nonce: str, user_agent: str) -> str:
        issued = self._issued.get(nonce)
        if issued is None or issued[0] != user_agent:
            return "invalid"
        return "valid" if self._clock() - issued[1] <= self.nonce_lifetime_s else "stale"
