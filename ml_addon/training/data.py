"""Find labelled images, group near-copies, split by source photo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
# Roboflow exports name augmented copies "<source>_jpg.rf.<hash>.jpg".
ROBOFLOW_SOURCE = re.compile(r"^(?P<source>.+?)_(?:jpg|jpeg|png|bmp|webp)\.rf\.[0-9a-f]+$", re.I)
NEGATIVE_DIR = re.compile(r"^(no|normal|ok|good|success|healthy)", re.I)
POSITIVE_DIR = re.compile(r"(yes|fail|defect|spaghetti|error)", re.I)


@dataclass
class Sample:
    path: Path
    label: int  # 1 = failure
    dataset: str  # top-level folder under the data directory
    source: str  # source photo id (augmented copies share it)
    group: int = -1  # after near-duplicate merging; the unit of the split


def _source_id(dataset: str, path: Path) -> str:
    match = ROBOFLOW_SOURCE.match(path.stem)
    return f"{dataset}/{match.group('source') if match else path.stem}"


def _yolo_label(image: Path) -> int | None:
    label = image.parent.parent / "labels" / (image.stem + ".txt")
    if not label.exists():
        return None
    return 1 if label.read_text().strip() else 0


def _folder_label(image: Path) -> int | None:
    name = image.parent.name
    if NEGATIVE_DIR.search(name):
        return 0
    if POSITIVE_DIR.search(name):
        return 1
    return None


def scan(data_dir: Path) -> list[Sample]:
    """Every labelled image under ``data_dir``.

    Two layouts are understood: YOLO (``.../images/x.jpg`` with ``.../labels/x.txt``;
    a non-empty label file means failure) and class folders (``NoDefects``/``normal``
    versus ``YesDefects``/``failure``/...). The dataset is the first folder level.
    """
    samples: list[Sample] = []
    for dataset_dir in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        for path in sorted(dataset_dir.rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            label = _yolo_label(path) if path.parent.name == "images" else _folder_label(path)
            if label is None:
                continue
            samples.append(
                Sample(path, label, dataset_dir.name, _source_id(dataset_dir.name, path))
            )
    if not samples:
        raise SystemExit(f"no labelled images found under {data_dir}")
    return samples


def dhash(path: Path) -> int:
    """64-bit difference hash of the greyscale picture (robust to resize/JPEG)."""
    with Image.open(path) as image:
        image.draft("L", (64, 64))
        small = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.BILINEAR))
    bits = (small[:, 1:] > small[:, :-1]).reshape(-1)
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def assign_groups(samples: list[Sample], max_distance: int = 6) -> int:
    """Union source photos whose pictures are near-copies; returns the group count."""
    sources = sorted({s.source for s in samples})
    index = {name: i for i, name in enumerate(sources)}
    parent = list(range(len(sources)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    hashes = np.array([dhash(s.path) for s in samples], dtype=np.uint64)
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1).astype(np.int16)
    for i in range(len(samples)):
        distance = np.abs(bits[i + 1 :] - bits[i]).sum(axis=1)
        for j in np.nonzero(distance <= max_distance)[0]:
            a, b = find(index[samples[i].source]), find(index[samples[i + 1 + j].source])
            if a != b:
                parent[b] = a
    roots: dict[int, int] = {}
    for sample in samples:
        root = find(index[sample.source])
        sample.group = roots.setdefault(root, len(roots))
    return len(roots)


# -- real printer cameras and region boxes --------------------------------------------------


@dataclass
class Frame:
    """One labelled picture with where it comes from and, for web photos, its failure boxes.

    ``camera`` names the physical camera (real printer frames) or the source photo (web
    photos): the unit that validation leaves out. ``trainable`` is False for frames whose
    licence allows evaluation only.
    """

    path: Path
    label: int  # 1 = failure
    dataset: str
    camera: str
    kind: str  # "web" (photos), "camera" (frames of a fixed printer camera)
    trainable: bool = True
    boxes: list[tuple[float, float, float, float]] | None = None


def yolo_boxes(image: Path) -> list[tuple[float, float, float, float]] | None:
    """Failure boxes (x0, y0, x1, y1 fractions) of a YOLO-labelled image, or None."""
    label = image.parent.parent / "labels" / (image.stem + ".txt")
    if not label.exists():
        return None
    boxes = []
    for line in label.read_text().splitlines():
        parts = line.split()
        if len(parts) != 5:
            continue
        x, y, w, h = (float(v) for v in parts[1:])
        boxes.append(
            (max(0.0, x - w / 2), max(0.0, y - h / 2), min(1.0, x + w / 2), min(1.0, y + h / 2))
        )
    return boxes


def scan_failure_images(root: Path) -> list[Frame]:
    """The failure-images sets: web photos with boxes, and the one printer camera's frames."""
    frames = []
    for sample in scan(root):
        boxes = yolo_boxes(sample.path) if sample.path.parent.name == "images" else None
        web = boxes is not None
        frames.append(
            Frame(
                path=sample.path,
                label=sample.label,
                dataset=sample.dataset,
                camera=sample.source if web else sample.dataset,
                kind="web" if web else "camera",
                boxes=boxes,
            )
        )
    return frames


def scan_camera_sets(root: Path, *, trainable: bool) -> list[Frame]:
    """``root/<source>/{normal,failure}/<camera>_<what>_<name>.jpg``: one camera per prefix."""
    frames = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        label = _folder_label(path)
        if label is None:
            continue
        source = path.relative_to(root).parts[0]
        camera = f"{source}/{path.name.split('_')[0]}"
        frames.append(Frame(path, label, source, camera, "camera", trainable=trainable))
    return frames
