"""An animated WebP written frame by frame, so a long print never sits in memory whole.

Each frame is encoded by Pillow as a still WebP and its bitstream chunk is
wrapped in an ``ANMF`` chunk of the animation container (RIFF ``WEBP`` with
``VP8X`` and ``ANIM``, as Google's container specification describes); the RIFF
size is written when the file is finished. Browsers and Home Assistant's media
browser play the result.
"""

from __future__ import annotations

import io
from pathlib import Path
import struct
from typing import BinaryIO

from PIL import Image

FRAME_CHUNKS = {b"ALPH", b"VP8 ", b"VP8L"}
ANIMATION_FLAG = 0x02
NO_BLEND = 0x02


def _u24(value: int) -> bytes:
    return struct.pack("<I", value)[:3]


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\x00" if len(payload) % 2 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def frame_chunks(encoded: bytes) -> bytes:
    """The bitstream chunks (ALPH, VP8, VP8L) of a still WebP file."""
    if encoded[:4] != b"RIFF" or encoded[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    offset, found = 12, []
    while offset + 8 <= len(encoded):
        fourcc = encoded[offset : offset + 4]
        size = struct.unpack("<I", encoded[offset + 4 : offset + 8])[0]
        end = offset + 8 + size + (size % 2)
        if fourcc in FRAME_CHUNKS:
            found.append(encoded[offset:end])
        offset = end
    if not found:
        raise ValueError("WebP file has no image data")
    return b"".join(found)


class AnimatedWebP:
    """Write frames of one size into an animated WebP file."""

    def __init__(
        self, path: Path, size: tuple[int, int], *, frame_ms: int = 100, quality: int = 60
    ) -> None:
        """Open ``path`` and write the headers; ``size`` is the canvas (width, height)."""
        self.path = path
        self.size = size
        self.frame_ms = frame_ms
        self.quality = quality
        self.frames = 0
        self._file: BinaryIO = path.open("wb")
        width, height = size
        self._file.write(b"RIFF\x00\x00\x00\x00WEBP")
        self._file.write(
            _chunk(b"VP8X", bytes([ANIMATION_FLAG, 0, 0, 0]) + _u24(width - 1) + _u24(height - 1))
        )
        self._file.write(_chunk(b"ANIM", b"\x00\x00\x00\x00" + struct.pack("<H", 0)))

    def add(self, image: Image.Image) -> None:
        """Append a frame (resized to the canvas when it differs)."""
        if image.size != self.size:
            image = image.resize(self.size, Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "WEBP", quality=self.quality, method=4)
        data = frame_chunks(buffer.getvalue())
        width, height = self.size
        header = _u24(0) + _u24(0) + _u24(width - 1) + _u24(height - 1)
        header += _u24(self.frame_ms) + bytes([NO_BLEND])
        self._file.write(_chunk(b"ANMF", header + data))
        self.frames += 1

    def close(self) -> None:
        """Write the RIFF size and close the file."""
        if self._file.closed:
            return
        size = self._file.tell()
        self._file.seek(4)
        self._file.write(struct.pack("<I", size - 8))
        self._file.close()

    def __enter__(self) -> AnimatedWebP:
        """Context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close on leaving."""
        self.close()
