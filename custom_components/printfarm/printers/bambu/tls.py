"""TLS for Bambu printers: Bambu's own CA, the serial as the certificate name.

A printer presents a certificate whose common name is its serial number,
issued under one of Bambu Lab's public CAs (shipped in ``certs/``). There is
no IP address in the certificate, so the serial is passed as
``server_hostname`` and the hostname check stays on.

Python 3.13 turns on ``VERIFY_X509_STRICT`` by default, which rejects the old
"BBL CA" root because it has no keyUsage extension. That one flag is
cleared; chain verification and the name check stay on.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
import ssl

CERTS_DIR = Path(__file__).parent / "certs"


@cache
def bundled_ca_pem() -> str:
    """Every Bambu CA certificate shipped with the package, concatenated (read once)."""
    return "\n".join(p.read_text(encoding="ascii") for p in sorted(CERTS_DIR.glob("*.cert")))


def client_context(extra_ca_pem: str | None = None) -> ssl.SSLContext:
    """A verifying client context trusting Bambu's CAs (and ``extra_ca_pem``)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=bundled_ca_pem())
    if extra_ca_pem:
        ctx.load_verify_locations(cadata=extra_ca_pem)
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
