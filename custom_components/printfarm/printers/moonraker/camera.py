"""Webcams from ``server.webcams.list``: pick one and resolve its URLs.

Moonraker only stores webcam settings; the stream itself is served by
crowsnest/ustreamer/mjpg-streamer, often on the same host behind the same
port. URLs may be absolute or relative to the Moonraker host
(``/webcam/?action=snapshot``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from ..models import CameraInfo, CameraKind
from .parse import as_dict, as_list, as_str

#: ``service`` values whose ``stream_url`` is an MJPEG multipart stream.
MJPEG_SERVICES = frozenset({"mjpegstreamer", "mjpegstreamer-adaptive", "uv4l-mjpeg"})


def resolve(base_url: str, url: str | None) -> str | None:
    """Make a webcam URL absolute against ``base_url`` (``http://host:port/``)."""
    if not url or not url.strip():
        return None
    url = url.strip()
    if url.startswith("//"):
        url = "http:" + url
    absolute = urljoin(base_url, url)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def parse_webcams(result: Any, base_url: str) -> CameraInfo:
    """The first enabled webcam as a ``CameraInfo`` (``NONE`` when there is none)."""
    for raw in as_list(as_dict(result).get("webcams")):
        cam = as_dict(raw)
        if cam.get("enabled") is False:
            continue
        service = (as_str(cam.get("service")) or "").lower()
        stream = resolve(base_url, as_str(cam.get("stream_url")))
        snapshot = resolve(base_url, as_str(cam.get("snapshot_url")))
        if service in MJPEG_SERVICES and stream:
            return CameraInfo(kind=CameraKind.MJPEG, stream_url=stream, snapshot_url=snapshot)
        if snapshot:
            return CameraInfo(kind=CameraKind.SNAPSHOT, snapshot_url=snapshot)
    return CameraInfo()


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` is served by the Moonraker host itself (the API key may go along)."""
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
