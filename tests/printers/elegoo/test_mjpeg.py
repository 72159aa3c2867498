"""Elegoo camera: a whole JPEG out of the MJPEG stream's bytes, or nothing."""

from __future__ import annotations

import pytest

from custom_components.printfarm.printers.elegoo.camera import extract_jpeg

JPEG = b"\xff\xd8\xff\xe0" + b"body\xff\x00" + b"\xff\xd9"


@pytest.mark.parametrize(
    ("buffer", "expected"),
    [
        (b"--b\r\nContent-Type: image/jpeg\r\n\r\n" + JPEG + b"\r\n--b", JPEG),
        (b"--b\r\nContent-Length: %d\r\n\r\n" % len(JPEG) + JPEG, JPEG),
        # an embedded thumbnail's end marker does not end a part with a length
        (
            b"--b\r\ncontent-length: 10\r\n\r\n\xff\xd8\xff\xd9\xff\xd9abcd",
            b"\xff\xd8\xff\xd9\xff\xd9abcd",
        ),
        (b"--b\r\nContent-Length: 100\r\n\r\n" + JPEG, None),  # incomplete
        (b"--b\r\n\r\n\xff\xd8 no end yet", None),
        (b"no image at all", None),
    ],
)
def test_extract_jpeg(buffer: bytes, expected: bytes | None) -> None:
    assert extract_jpeg(buffer) == expected
