"""Read one JPEG out of the Centauri Carbon's MJPEG stream (``multipart/x-mixed-replace``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..exceptions import PrinterProtocolError

if TYPE_CHECKING:
    import aiohttp

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"
_CONTENT_LENGTH = re.compile(rb"(?i)content-length:[ \t]*(\d+)")


def extract_jpeg(buffer: bytes | bytearray) -> bytes | None:
    """The first complete JPEG in ``buffer``, or None when more bytes are needed.

    The part's ``Content-Length`` is trusted when the part headers carry one
    (a JPEG may embed an EXIF thumbnail with its own end marker); otherwise
    the image runs from the start marker to the first end marker.
    """
    start = buffer.find(_SOI)
    if start < 0:
        return None
    lengths = _CONTENT_LENGTH.findall(bytes(buffer[:start]))
    if lengths:
        size = int(lengths[-1])
        if size > 0 and len(buffer) >= start + size:
            return bytes(buffer[start : start + size])
        if size > 0:
            return None
    end = buffer.find(_EOI, start + 2)
    if end < 0:
        return None
    return bytes(buffer[start : end + 2])


async def read_first_jpeg(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Consume ``response`` until its first JPEG is complete; at most ``limit`` bytes."""
    buffer = bytearray()
    async for chunk in response.content.iter_any():
        buffer += chunk
        jpeg = extract_jpeg(buffer)
        if jpeg is not None:
            return jpeg
        if len(buffer) > limit:
            raise PrinterProtocolError(
                f"no JPEG frame within the first {limit} bytes of the stream"
            )
    raise PrinterProtocolError("the video stream ended before a whole frame arrived")
