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


def make_folds(samples: list[Sample], folds: int, seed: int) -> np.ndarray:
    """Fold of every sample; whole groups go together, balanced per dataset and label."""
    rng = np.random.default_rng(seed)
    group_key: dict[int, tuple[str, int]] = {}
    for sample in samples:
        group_key.setdefault(sample.group, (sample.dataset, sample.label))
    fold_of_group: dict[int, int] = {}
    for key in sorted(set(group_key.values())):
        members = [g for g, k in group_key.items() if k == key]
        rng.shuffle(members)
        offset = int(rng.integers(0, folds))
        for i, group in enumerate(members):
            fold_of_group[group] = (i + offset) % folds
    return np.array([fold_of_group[s.group] for s in samples], dtype=np.int64)
