"""HTTP for PrusaLink: authentication, limits and error mapping.

Digest authentication is httpx's own :class:`httpx.DigestAuth`; it handles
both server flavours:

* Buddy firmware: realm ``Printer API``, no ``qop`` (RFC 2069 form), stale
  nonces. httpx caches the last challenge and answers the next request with
  it; when the printer says the nonce is stale httpx re-challenges once.
* Prusa-Link on a Pi: realm ``Administrator``, ``qop="auth"``,
  ``algorithm="MD5-sess"`` and ``opaque``. The nonce is tied to the client's
  User-Agent, so every request carries the same User-Agent header.

The one case httpx does not cover is a second ``stale=true`` in a row (the
nonce httpx just fetched went stale before it was used, e.g. a printer whose
nonce lifetime is very short or whose clock jumped). That is handled here,
around httpx: the whole request is repeated once. A 401 after that is a
:class:`PrinterAuthError`. ``X-Api-Key`` is the alternative to a password.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import re
from typing import Any, Final

from ..exceptions import PrinterAuthError, PrinterConnectionError, PrinterProtocolError, Reason
from ..httpx_compat import httpx

_LOGGER = logging.getLogger(__name__)

#: One stable User-Agent: Prusa-Link binds its digest nonce to it.
USER_AGENT: Final = "printfarm-prusalink/1"
#: ``stale=true`` in a challenge (Buddy: ``, stale=true``; Prusa-Link: ``,stale=true``).
STALE = re.compile(r"""\bstale\s*=\s*"?true"?""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Reply:
    """A fully read HTTP answer."""

    status: int
    content_type: str
    body: bytes


class PrusaLinkHttp:
    """Sends authenticated requests to one PrusaLink server."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None,
        password: str | None,
        api_key: str | None,
        client: httpx.AsyncClient,
        timeout: float,
    ) -> None:
        """Prefer the API key when one is given, else digest with user and password."""
        self.base_url = base_url.rstrip("/")
        self._client = client
        self._timeout = timeout
        # identity: an answer is bounded by its own bytes, never by what they unpack to
        self._headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": "identity",
        }
        self._auth: httpx.Auth | None = None
        if api_key:
            self._headers["X-Api-Key"] = api_key
        elif password is not None:
            self._auth = httpx.DigestAuth(username or "maker", password)

    def url(self, path: str) -> httpx.URL:
        """Absolute URL of a path (or printer-relative reference) on this server."""
        base = httpx.URL(self.base_url + "/")
        target = base.join(path)
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise PrinterProtocolError(f"refusing to follow a reference to another host: {path}")
        return target

    async def request(
        self, method: str, path: str, *, max_bytes: int, body: dict[str, Any] | None = None
    ) -> Reply:
        """Send one request; retry once on a stale nonce; map failures to typed errors.

        Statuses other than 401/403 and 5xx are returned for the caller to judge.
        """
        reply, stale = await self._send(method, path, max_bytes, body)
        if reply.status == 401 and stale:
            _LOGGER.debug("%s %s: nonce went stale twice, repeating once", method, path)
            reply, stale = await self._send(method, path, max_bytes, body)
        if reply.status == 401:
            detail = " (nonce kept going stale)" if stale else ""
            raise PrinterAuthError(f"the printer refused the credentials{detail}")
        if reply.status == 403:
            raise PrinterAuthError("the printer refused the API key")
        if reply.status == 503:
            raise PrinterConnectionError("the printer is not ready (503 Service Unavailable)")
        if reply.status >= 500:
            raise PrinterConnectionError(f"{method} {path}: server error {reply.status}")
        return reply

    async def _send(
        self, method: str, path: str, max_bytes: int, body: dict[str, Any] | None
    ) -> tuple[Reply, bool]:
        url = self.url(path)
        try:
            async with self._client.stream(
                method,
                url,
                headers=self._headers,
                json=body,
                auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
                timeout=self._timeout,
                follow_redirects=False,
            ) as response:
                challenge = " ".join(response.headers.get_list("www-authenticate"))
                content = await _read_limited(response, max_bytes, f"{method} {path}")
                reply = Reply(
                    status=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    body=content,
                )
                if response.status_code == 401 and challenge.lower().startswith("apikey"):
                    raise PrinterAuthError("the printer asks for an API key, not a password")
                return reply, bool(STALE.search(challenge))
        except httpx.TimeoutException as err:
            raise PrinterConnectionError(
                f"{method} {path}: timed out", reason=Reason.TIMEOUT
            ) from err
        except httpx.ProtocolError as err:  # also a malformed digest challenge
            raise PrinterProtocolError(f"{method} {path}: {err}") from err
        except httpx.TransportError as err:
            raise PrinterConnectionError(f"{method} {path}: {err}") from err
        except httpx.HTTPError as err:
            raise PrinterProtocolError(f"{method} {path}: {err}") from err
        except RuntimeError as err:  # the client was closed under a request in flight
            if isinstance(err, NotImplementedError):  # httpx digest: qop=auth-int only
                raise PrinterProtocolError(f"{method} {path}: unusable auth challenge") from err
            raise PrinterConnectionError(f"{method} {path}: {err}") from err
        except (LookupError, ValueError, TypeError) as err:  # httpx digest: a broken challenge
            # ('Digest realm=' made httpx 0.28 raise IndexError)
            raise PrinterProtocolError(f"{method} {path}: unusable auth challenge") from err


async def _read_limited(response: httpx.Response, max_bytes: int, what: str) -> bytes:
    """Read a body, refusing anything larger than ``max_bytes``."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PrinterProtocolError(
            f"{what}: body of {declared} bytes is over the limit", reason=Reason.TOO_LARGE
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise PrinterProtocolError(
                f"{what}: body is over the {max_bytes} byte limit", reason=Reason.TOO_LARGE
            )
        chunks.append(chunk)
    return b"".join(chunks)
