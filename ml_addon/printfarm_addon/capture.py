"""Turn what the camera proxy answered into a frame, or a clear reason why it is none.

A frame is never trusted: it is bounded in bytes by the client, its format is
checked by its first bytes (an HTML error page is not a JPEG), its size in
pixels before it is decoded (no decompression bombs), and a corrupt file is an
error. None of these is evidence of a failure: the watcher just skips the frame.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from .ha import CameraError

MAX_FRAME_BYTES = 12 * 1024 * 1024
MAX_PIXELS = 40_000_000
#: Frames are decoded at most this wide: enough for any model input, the overlay and the timelapse.
WORK_WIDTH = 1280

MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
}


def sniff(data: bytes) -> str | None:
    """The image format by its first bytes (JPEG, PNG, WEBP) or None."""
    for magic, name in MAGIC.items():
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def describe_junk(data: bytes) -> str:
    """A short, safe description of bytes that are not an image."""
    head = data[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if head.startswith((b"{", b"[")):
        return "JSON"
    if not data:
        return "nothing"
    return f"{len(data)} bytes that are not a JPEG, PNG or WebP image"


def decode_frame(data: bytes) -> Image.Image:
    """An RGB frame at most WORK_WIDTH wide; CameraError for anything else."""
    if len(data) > MAX_FRAME_BYTES:
        raise CameraError(f"frame of {len(data)} bytes is too large")
    kind = sniff(data)
    if kind is None:
        raise CameraError(f"the camera sent {describe_junk(data)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=[kind])
            width, height = opened.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as err:
        raise CameraError(f"corrupt {kind} frame: {err}") from err
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise CameraError(f"frame of {width}x{height} pixels is too large")
    try:
        if kind == "JPEG" and width > WORK_WIDTH:
            opened.draft("RGB", (WORK_WIDTH, WORK_WIDTH * height // width))
        image = opened.convert("RGB")
    except (OSError, ValueError, SyntaxError) as err:
        raise CameraError(f"corrupt {kind} frame: {err}") from err
    if image.width > WORK_WIDTH:
        image = image.resize(
            (WORK_WIDTH, max(1, image.height * WORK_WIDTH // image.width)),
            Image.Resampling.BILINEAR,
        )
    return image


def to_jpeg(image: Image.Image, *, quality: int = 82, max_width: int | None = None) -> bytes:
    """JPEG bytes of an RGB image, optionally scaled down."""
    if max_width is not None and image.width > max_width:
        image = image.resize(
            (max_width, max(1, image.height * max_width // image.width)),
            Image.Resampling.BILINEAR,
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
