"""A timelapse of every print, from the frames the watcher already takes.

While a print runs its frames are kept small (JPEG, 640 px) under the data folder,
detections marked with a coloured border and label. At most ``max_frames`` are
kept: when the folder is full every other frame goes and only every second new
one is kept from then on, so a ten-hour print still fits. When the print ends
the frames become one animated WebP in Home Assistant's media folder
(``printfarm/timelapse/<printer>/``), where the media browser shows it; only the
newest ``keep`` per printer stay.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
import logging
from pathlib import Path
import re
import shutil
import time

from PIL import Image, ImageDraw

from .evidence import COLOURS
from .webp import AnimatedWebP

LOGGER = logging.getLogger(__name__)
FRAME_WIDTH = 640
MEDIA_SUBDIR = Path("printfarm") / "timelapse"


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return cleaned[:60] or "print"


@dataclass(slots=True)
class _Recording:
    folder: Path
    stride: int = 1
    seen: int = 0
    stored: int = 0


class Timelapse:
    """Frames per running print, turned into a file when it ends."""

    def __init__(
        self, work_dir: Path, media_dir: Path | None, *, keep: int, max_frames: int = 600
    ) -> None:
        """``media_dir`` None: no timelapses (standalone without a media folder)."""
        self.work_dir = work_dir
        self.media_dir = media_dir
        self.keep = keep
        self.max_frames = max_frames
        self._recordings: dict[str, _Recording] = {}

    @property
    def enabled(self) -> bool:
        """Whether timelapses are written at all."""
        return self.media_dir is not None and self.keep > 0

    def add(self, print_id: str, image: Image.Image, level: str) -> None:
        """Keep a frame of the print (blocking: call from a thread)."""
        if not self.enabled:
            return
        rec = self._recordings.get(print_id)
        if rec is None:
            rec = _Recording(self.work_dir / slug(print_id))
            rec.folder.mkdir(parents=True, exist_ok=True)
            rec.stored = len(list(rec.folder.glob("*.jpg")))
            self._recordings[print_id] = rec
        rec.seen += 1
        if (rec.seen - 1) % rec.stride:
            return
        frame = image.convert("RGB")
        if frame.width > FRAME_WIDTH:
            frame = frame.resize((FRAME_WIDTH, max(1, frame.height * FRAME_WIDTH // frame.width)))
        if level != "ok":
            pen = ImageDraw.Draw(frame)
            colour = COLOURS.get(level, COLOURS["failure"])
            pen.rectangle((0, 0, frame.width - 1, frame.height - 1), outline=colour, width=6)
            pen.text((10, 8), level.upper(), fill=colour)
        buffer = io.BytesIO()
        frame.save(buffer, "JPEG", quality=75)
        (rec.folder / f"{rec.seen:08d}.jpg").write_bytes(buffer.getvalue())
        rec.stored += 1
        if rec.stored >= self.max_frames:
            files = sorted(rec.folder.glob("*.jpg"))
            for old in files[1::2]:
                old.unlink(missing_ok=True)
            rec.stored = len(files) - len(files[1::2])
            rec.stride *= 2

    def finish(self, print_id: str, printer: str, job: str | None) -> Path | None:
        """Write the print's animated WebP; its path (None when there was nothing)."""
        rec = self._recordings.pop(print_id, None)
        folder = rec.folder if rec is not None else self.work_dir / slug(print_id)
        if not self.enabled or self.media_dir is None or not folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            return None
        frames = sorted(folder.glob("*.jpg"))
        if not frames:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        target_dir = self.media_dir / MEDIA_SUBDIR / slug(printer)
        target_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime())
        target = target_dir / f"{stamp}-{slug(job or 'print')}.webp"
        partial = target.with_suffix(".partial")
        try:
            with Image.open(frames[0]) as first:
                size = first.size
            with AnimatedWebP(partial, size) as movie:
                for path in frames:
                    with Image.open(path) as frame:
                        movie.add(frame)
            partial.replace(target)
        except OSError:
            LOGGER.exception("Could not write the timelapse of %s", printer)
            partial.unlink(missing_ok=True)
            return None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self._retain(target_dir)
        return target

    def _retain(self, folder: Path) -> None:
        files = sorted(folder.glob("*.webp"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[self.keep :]:
            old.unlink(missing_ok=True)

    def discard(self, print_id: str) -> None:
        """Drop a print's frames without writing anything."""
        rec = self._recordings.pop(print_id, None)
        shutil.rmtree(rec.folder if rec else self.work_dir / slug(print_id), ignore_errors=True)
