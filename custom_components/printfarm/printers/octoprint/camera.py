"""Webcam URLs from OctoPrint's settings, made usable from where we are.

OctoPrint does not proxy images: its settings hold whatever URL the user
typed, which is often relative (``/webcam/?action=snapshot``) or points at
the OctoPrint host's own loopback (OctoPi's ``http://127.0.0.1:8080/...``).
Both mean "on the OctoPrint host": we rewrite them against the host we talk to.
"""

from __future__ import annotations

from yarl import URL

from ..limits import MAX_URL_LENGTH
from ..models import CameraInfo, CameraKind
from .parse import WebcamSettings

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})  # noqa: S104


def resolve_url(url: str | None, base: URL) -> str | None:
    """Absolute URL for ``url`` as seen from this client, or None.

    ``base`` is the OctoPrint base URL we use (``http://host:port/``).
    """
    if url is None or not url.strip() or len(url) > MAX_URL_LENGTH:
        return None
    text = url.strip()
    if text.startswith("//"):  # scheme-relative: same scheme as OctoPrint
        text = f"{base.scheme}:{text}"
    try:
        parsed = URL(text)
        if not parsed.is_absolute():
            return str(base.join(parsed))
        if parsed.scheme not in ("http", "https") or not parsed.host:
            return None
        if parsed.host in _LOOPBACK_HOSTS and base.host is not None:
            # same port as written; only the host changes (the camera runs beside OctoPrint)
            return str(parsed.with_host(base.host))
        return str(parsed)
    except (ValueError, TypeError, UnicodeError):  # "http://[::1", bad IDNA ...
        return None


def camera_info(settings: WebcamSettings, base: URL) -> CameraInfo:
    """The client's CameraInfo from the parsed webcam settings."""
    if not settings.enabled:
        return CameraInfo()
    snapshot = resolve_url(settings.snapshot_url, base)
    stream = resolve_url(settings.stream_url, base)
    if stream is not None:
        kind = CameraKind.MJPEG
    elif snapshot is not None:
        kind = CameraKind.SNAPSHOT
    else:
        kind = CameraKind.NONE
    return CameraInfo(kind=kind, stream_url=stream, snapshot_url=snapshot)
