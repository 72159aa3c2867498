"""Camera frames for simulated printers.

Frames come from a folder of JPEGs (cycled), switching to a second folder
after a set time: that is how failure detection is tested end to end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from pathlib import Path
import time

from aiohttp import web

FRAMES_DIR = Path(__file__).parent / "frames"
DEFAULT_NORMAL = FRAMES_DIR / "normal"
DEFAULT_FAILURE = FRAMES_DIR / "failure"
_SUFFIXES = {".jpg", ".jpeg"}


def _load(folder: Path) -> list[bytes]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)
    if not files:
        raise ValueError(f"no JPEG frames in {folder}")
    return [p.read_bytes() for p in files]


class FrameSource:
    """Serves the next JPEG; normal frames first, failure frames after ``failure_after`` s."""

    def __init__(
        self,
        normal_dir: Path = DEFAULT_NORMAL,
        failure_dir: Path | None = None,
        failure_after: float | None = None,
        *,
        frame_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Load every frame once; folders are read at start, not per request."""
        self._normal = _load(normal_dir)
        self._failure = _load(failure_dir) if failure_dir is not None else []
        self._failure_after = failure_after
        self._interval = frame_interval
        self._clock = clock
        self._start = clock()

    @property
    def failing(self) -> bool:
        """Whether the failure frames are being served now."""
        return (
            bool(self._failure)
            and self._failure_after is not None
            and self._clock() - self._start >= self._failure_after
        )

    def frame(self) -> bytes:
        """The frame for this instant (changes every ``frame_interval`` seconds)."""
        frames = self._failure if self.failing else self._normal
        index = int((self._clock() - self._start) / self._interval) % len(frames)
        return frames[index]


#: The multipart boundary of the simulators' MJPEG streams.
MJPEG_BOUNDARY = "printfarmframe"


def mjpeg_part(frame: bytes, boundary: str = MJPEG_BOUNDARY) -> bytes:
    """One part of a ``multipart/x-mixed-replace`` stream carrying ``frame``."""
    head = f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n"
    return head.encode() + frame + b"\r\n"


async def stream_mjpeg(
    request: web.Request,
    frames: FrameSource,
    *,
    boundary: str = MJPEG_BOUNDARY,
    interval: float = 0.2,
    running: Callable[[], bool] = lambda: True,
    stop: asyncio.Event | None = None,
) -> web.StreamResponse:
    """Serve ``frames`` as an MJPEG stream until the viewer leaves or ``running()`` is false.

    ``stop``, when set, ends the wait between two frames at once.
    """
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={boundary}",
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    with contextlib.suppress(ConnectionError, RuntimeError):
        while running():
            await response.write(mjpeg_part(frames.frame(), boundary))
            if stop is None:
                await asyncio.sleep(interval)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    return response
