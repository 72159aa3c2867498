"""``scripts/detect``: score images with the failure model, one line per image.

Plain output is tab-separated ``path  score  failure``; ``--json`` prints one
JSON object per line with the same keys. Folders are searched recursively for
images. Exit status 0 when every image was scored, 1 if any could not be read,
2 on usage errors.

With ``--camera NAME`` the frames are scored with that camera's correction, as the
add-on scores them; ``--mark false_alarm`` (or ``missed_failure``) then records
them as the user's verdict, ``--reset`` forgets the camera's marks. Marks are kept
under ``--data`` (default ``$XDG_DATA_HOME/printfarm-detect``), one file per camera,
the same format the add-on keeps under ``/data``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
import json
import os
from pathlib import Path
import sys

from PIL import UnidentifiedImageError

from .adaptation import Feedback
from .detector import CameraDetection, Detector
from .model import FailureModel, default_model_path
from .sequence import run_sequence

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def iter_images(paths: Sequence[Path]) -> Iterator[Path]:
    """Files as given; folders expanded to their images (sorted, recursive)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            yield path


def default_data_dir() -> Path:
    """Where the command line keeps camera marks unless ``--data`` says otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "printfarm-detect"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="scripts/detect", description="Score camera frames for print failures."
    )
    parser.add_argument("paths", nargs="*", type=Path, help="image files or folders")
    parser.add_argument(
        "--model", type=Path, default=None, help=f"ONNX model (default {default_model_path()})"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="failure threshold on the score (default: the model's)",
    )
    parser.add_argument(
        "--camera", default=None, help="score with this camera's correction (from its marks)"
    )
    parser.add_argument(
        "--mark",
        choices=[f.value for f in Feedback],
        default=None,
        help="after scoring, record the frames as this verdict for --camera",
    )
    parser.add_argument("--reset", action="store_true", help="forget every mark of --camera first")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"where camera marks are kept (default {default_data_dir()})",
    )
    parser.add_argument(
        "--sequence",
        type=Path,
        default=None,
        metavar="DIR",
        help="replay DIR's images (sorted by name) as one print through the add-on's decision",
    )
    parser.add_argument(
        "--interval", type=float, default=10.0, help="seconds between --sequence frames"
    )
    return parser


def usage_error(args: argparse.Namespace) -> str | None:
    """Why these options cannot run together, or None."""
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        return "--threshold must be between 0 and 1"
    if (args.mark or args.reset) and not args.camera:
        return "--mark and --reset need --camera"
    if args.sequence is not None:
        return "--sequence takes no other images" if args.paths or args.mark else None
    if not args.paths and not args.reset:
        return "give images or folders to score"
    if args.mark and not args.paths:
        return "--mark needs the images to mark"
    return None


def score_row(
    path: Path, model: FailureModel, detector: Detector | None, args: argparse.Namespace
) -> tuple[dict[str, object], CameraDetection | None]:
    """One output row for an image, and the camera's result to mark when there is one."""
    if detector is None:
        result = model.predict(path, threshold=args.threshold)
        row: dict[str, object] = {"path": str(path), "score": round(result.score, 6)}
        row.update(failure=result.failure, threshold=result.threshold)
        return row, None
    seen = detector.detect(args.camera, path)
    row = {"path": str(path), "score": round(seen.score, 6), "failure": seen.failure}
    row.update(threshold=detector.threshold, camera=args.camera)
    row.update(base_score=round(seen.base.score, 6))
    return row, seen


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    problem = usage_error(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    model = FailureModel(args.model)
    detector = None
    if args.camera:
        data = default_data_dir() if args.data is None else args.data
        detector = Detector(model, data, threshold=args.threshold)
        if args.reset:
            try:
                detector.reset(args.camera)
            except OSError as err:
                print(f"camera {args.camera}: cannot reset its marks: {err}", file=sys.stderr)
                return 1
            print(f"camera {args.camera}: marks reset", file=sys.stderr)
    if args.sequence is not None:
        return run_sequence(
            args.sequence,
            model=model,
            detector=detector,
            camera=args.camera,
            threshold=args.threshold,
            interval=args.interval,
            as_json=args.json,
        )
    status = 0
    marked = 0
    for path in iter_images(args.paths):
        try:
            row, seen = score_row(path, model, detector, args)
        except (OSError, UnidentifiedImageError) as err:
            print(f"{path}: cannot read image: {err}", file=sys.stderr)
            status = 1
            continue
        if detector is not None and seen is not None and args.mark:
            try:
                detector.mark(seen, Feedback(args.mark))
                marked += 1
            except OSError as err:
                print(f"{path}: cannot store the mark: {err}", file=sys.stderr)
                status = 1
        line = json.dumps(row) if args.json else f"{path}\t{row['score']:.4f}\t{row['failure']}"
        try:
            print(line, flush=True)
        except BrokenPipeError:  # e.g. piped into head: stop quietly
            sys.stderr.close()
            return status
    if detector is not None and args.mark:
        camera = detector.store.camera(args.camera)
        print(
            f"camera {args.camera}: {marked} frames marked {args.mark}; it now has "
            f"{camera.false_alarms} false-alarm and {camera.missed_failures} missed-failure marks",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
