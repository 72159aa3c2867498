"""``scripts/detect --sequence DIR``: replay a print from its frames through the add-on's decision.

The images in DIR, sorted by name, are taken as consecutive frames of one print
from one camera, ``--interval`` seconds apart. Each is scored (with the camera's
correction when ``--camera`` is given) and fed to the same ``Decision`` the
add-on runs, with the add-on's default settings. One line per frame: ``path``,
``score``, ``level`` (ok / warning / failure) and ``action`` (null / notify /
pause), plus the smoothed score and whether the print is still warming up.
An image that cannot be read is reported on stderr and skipped: it is never
evidence of anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import json
from pathlib import Path
import sys

from PIL import UnidentifiedImageError

from .decision import Decision, DecisionSettings
from .detector import Detector
from .model import FailureModel

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def sequence_frames(folder: Path) -> list[Path]:
    """The images directly in ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def replay(
    frames: Iterable[Path],
    score: Callable[[Path], tuple[float, float]],
    settings: DecisionSettings,
    interval: float,
) -> Iterable[dict[str, object] | tuple[Path, Exception]]:
    """Judge the frames in order; yields a row per frame, or (path, error) for unreadable ones."""
    decision = Decision(settings)
    decision.start_print()
    for index, path in enumerate(frames):
        try:
            probability, logit = score(path)
        except (OSError, UnidentifiedImageError, ValueError) as err:
            yield path, err
            continue
        verdict = decision.update(probability, index * interval, logit=logit)
        row: dict[str, object] = {"path": str(path), **verdict.as_dict()}
        yield row


def run_sequence(
    folder: Path,
    *,
    model: FailureModel,
    detector: Detector | None,
    camera: str | None,
    threshold: float | None,
    interval: float,
    as_json: bool,
) -> int:
    """Print one line per frame; the exit status (1 if a frame could not be read)."""
    if not folder.is_dir():
        print(f"{folder}: not a folder of frames", file=sys.stderr)
        return 2
    limit = model.threshold if threshold is None else threshold

    def score(path: Path) -> tuple[float, float]:
        if detector is not None and camera is not None:
            seen = detector.detect(camera, path)
            return seen.score, seen.logit
        result = model.predict(path, threshold=limit)
        return result.score, result.logit

    status = 0
    for item in replay(sequence_frames(folder), score, DecisionSettings(threshold=limit), interval):
        if isinstance(item, tuple):
            print(f"{item[0]}: cannot read image: {item[1]}", file=sys.stderr)
            status = 1
            continue
        if as_json:
            line = json.dumps(item)
        else:
            line = f"{item['path']}\t{item['score']:.4f}\t{item['level']}\t{item['action'] or '-'}"
        try:
            print(line, flush=True)
        except BrokenPipeError:
            sys.stderr.close()
            return status
    return status
