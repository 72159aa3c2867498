"""``scripts/detect``: score images with the failure model, one line per image.

Plain output is tab-separated ``path  score  failure``; ``--json`` prints one
JSON object per line with the same keys. Folders are searched recursively for
images. Exit status 0 when every image was scored, 1 if any could not be read,
2 on usage errors.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
import json
from pathlib import Path
import sys

from PIL import UnidentifiedImageError

from .model import FailureModel, default_model_path

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


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="scripts/detect", description="Score camera frames for print failures."
    )
    parser.add_argument("paths", nargs="+", type=Path, help="image files or folders")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        print("--threshold must be between 0 and 1", file=sys.stderr)
        return 2
    model = FailureModel(args.model)
    status = 0
    for path in iter_images(args.paths):
        try:
            result = model.predict(path, threshold=args.threshold)
        except (OSError, UnidentifiedImageError) as err:
            print(f"{path}: cannot read image: {err}", file=sys.stderr)
            status = 1
            continue
        if args.json:
            line = json.dumps(
                {
                    "path": str(path),
                    "score": round(result.score, 6),
                    "failure": result.failure,
                    "threshold": result.threshold,
                }
            )
        else:
            line = f"{path}\t{result.score:.4f}\t{result.failure}"
        try:
            print(line, flush=True)
        except BrokenPipeError:  # e.g. piped into head: stop quietly
            sys.stderr.close()
            return status
    return status


if __name__ == "__main__":
    sys.exit(main())
