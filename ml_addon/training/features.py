# ruff: noqa: SLF001  (EfficientNet-Lite keeps its layers in underscore attributes)
"""Backbone feature maps of every training and evaluation view, computed once and cached.

The first part of the backbone (stem and blocks up to ``SPLIT``) runs in onnxruntime,
which is several times faster than torch on this CPU, the rest in torch. Both the
middle map (112 x 14 x 14, what fine-tuning the last blocks would start from) and the
frozen backbone's last map (1280 x 7 x 7, what the region head is trained on) are cached.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
import hashlib
import json
from pathlib import Path
import time
from typing import Any

from data import Frame
import numpy as np
from PIL import Image, ImageOps
import torch
from torch import nn
from views import GRID, View, augmented_view, cell_labels, paste

SPLIT = 11  # blocks [0, SPLIT) are frozen and cached; the rest can be fine-tuned
TAIL_FROM = 15  # blocks [TAIL_FROM, end) and the head conv are fine-tuned (the tail)
SIZE = (224, 224)


@dataclass
class ViewSet:
    """Cached views: cell labels, frame labels and where each view comes from."""

    frame: np.ndarray  # index into the frame list, -1 for pastes
    kind: np.ndarray  # 0 clean, 1 augmented, 2 failure paste, 3 decoy paste
    background: np.ndarray  # frame index of a paste's background (else = frame)
    patch: np.ndarray  # frame index a pasted patch comes from (-1: none)
    cells: np.ndarray  # N x GRID*GRID int8
    label: np.ndarray  # N int8 (-1 unknown)
    mid: np.ndarray = field(repr=False)  # N x 112 x 14 x 14 float16
    final: np.ndarray = field(repr=False)  # N x 49 x 1280 float16


class Trunk(nn.Module):
    """Stem and the first SPLIT blocks of EfficientNet-Lite0."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.backbone
        x = b._swish(b._bn0(b._conv_stem(x)))
        for block in b._blocks[:SPLIT]:
            x = block(x)
        return x


class Top(nn.Module):
    """Blocks SPLIT.. and the 1x1 head conv: middle map -> N x 1280 x 7 x 7."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(backbone._blocks[SPLIT:])
        self.conv_head = backbone._conv_head
        self.bn1 = backbone._bn1
        self.act = backbone._swish

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.act(self.bn1(self.conv_head(x)))


class Tail(nn.Module):
    """A trainable copy of the backbone's last block and head conv: map -> N x 49 x 1280."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.blocks = copy.deepcopy(nn.ModuleList(backbone._blocks[TAIL_FROM:]))
        self.conv_head = copy.deepcopy(backbone._conv_head)
        self.bn1 = copy.deepcopy(backbone._bn1)
        self.act = copy.deepcopy(backbone._swish)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.act(self.bn1(self.conv_head(x))).flatten(2).transpose(1, 2)

    def install(self, backbone: nn.Module) -> None:
        """Write the tuned weights into ``backbone`` (what is exported)."""
        for tuned, block in zip(self.blocks, backbone._blocks[TAIL_FROM:], strict=True):
            block.load_state_dict(tuned.state_dict())
        backbone._conv_head.load_state_dict(self.conv_head.state_dict())
        backbone._bn1.load_state_dict(self.bn1.state_dict())


def tail_inputs(views: ViewSet, backbone: nn.Module, cache: Path, log: Any) -> np.ndarray:
    """Every view's map before the tail (N x 192 x 7 x 7 float16), from the cached middle."""
    key = hashlib.sha256(views.final[:, 0, :8].tobytes()).hexdigest()[:16]
    path = cache / f"tail-in-{TAIL_FROM}-{key}.npy"
    if path.exists():
        return np.load(path)  # type: ignore[no-any-return]
    frozen = nn.ModuleList(backbone._blocks[SPLIT:TAIL_FROM]).eval()
    out: np.ndarray | None = None
    with torch.inference_mode():
        for start in range(0, views.mid.shape[0], 256):
            x = torch.from_numpy(views.mid[start : start + 256].astype(np.float32))
            for block in frozen:
                x = block(x)
            if out is None:
                out = np.zeros((views.mid.shape[0], *x.shape[1:]), dtype=np.float16)
            out[start : start + 256] = x.numpy().astype(np.float16)
    if out is None:
        raise ValueError("no views")
    np.save(path, out)
    log(f"tail inputs cached in {path}")
    return out


def _load_rgb(path: Path) -> Image.Image:
    with Image.open(path) as raw:
        return ImageOps.exif_transpose(raw).convert("RGB")


def _box_patches(frames: list[Frame], rng: np.random.Generator) -> list[tuple[int, Image.Image]]:
    """Failure boxes of web photos big enough to paste (with 10 % context)."""
    out = []
    seen: set[str] = set()
    for i, f in enumerate(frames):
        if f.kind != "web" or not f.boxes or not f.trainable or f.camera in seen:
            continue
        seen.add(f.camera)  # one copy of each source photo (Roboflow triples them)
        image = _load_rgb(f.path)
        w, h = image.size
        for x0, y0, x1, y1 in f.boxes:
            if (x1 - x0) * (y1 - y0) < 0.01:
                continue
            dx, dy = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
            box = (
                int(max(0, x0 - dx) * w),
                int(max(0, y0 - dy) * h),
                int(min(1, x1 + dx) * w),
                int(min(1, y1 + dy) * h),
            )
            if box[2] - box[0] >= 16 and box[3] - box[1] >= 16:
                out.append((i, image.crop(box)))
    rng.shuffle(out)  # type: ignore[arg-type]
    return out


def _decoy_patch(
    frames: list[Frame], rng: np.random.Generator, pool: list[int]
) -> tuple[int, Image.Image]:
    """A box-free cut of a picture: a normal frame, or a web photo away from its boxes."""
    for _ in range(20):
        i = int(rng.choice(pool))
        f = frames[i]
        image = _load_rgb(f.path)
        w, h = image.size
        cw, ch = int(w * rng.uniform(0.15, 0.45)), int(h * rng.uniform(0.15, 0.45))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        fx0, fy0, fx1, fy1 = x / w, y / h, (x + cw) / w, (y + ch) / h
        if f.boxes and any(
            min(fx1, b[2]) > max(fx0, b[0]) and min(fy1, b[3]) > max(fy0, b[1]) for b in f.boxes
        ):
            continue
        if f.label == 1 and not f.boxes:
            continue
        return i, image.crop((x, y, x + cw, y + ch))
    i = int(rng.choice([j for j in pool if frames[j].label == 0]))
    return i, _load_rgb(frames[i].path)


def plan_views(
    frames: list[Frame], seed: int, aug: dict[str, int], pastes: int, decoys: int
) -> list[tuple[int, int, int, int, Any]]:
    """(frame, kind, background, patch, make) for every view; ``make`` builds the View."""
    rng = np.random.default_rng([seed, 1])
    plan: list[tuple[int, int, int, int, Any]] = []
    for i, f in enumerate(frames):
        plan.append((i, 0, i, -1, None))
        if not f.trainable:
            continue
        key = (
            f.kind
            if f.kind == "web"
            else ("lorenzo" if f.dataset == "printer-camera-defects" else "camera")
        )
        plan.extend((i, 1, i, -1, ("aug", i, k)) for k in range(aug.get(key, 0)))
    backgrounds = [
        i for i, f in enumerate(frames) if f.trainable and f.kind == "camera" and f.label == 0
    ]
    # Real printer cameras other than the one big set get as many pastes as that set.
    small = [i for i in backgrounds if frames[i].dataset != "printer-camera-defects"]
    big = [i for i in backgrounds if frames[i].dataset == "printer-camera-defects"]
    patches = _box_patches(frames, rng)
    pool = [i for i, f in enumerate(frames) if f.trainable]
    for k in range(pastes):
        bg = int(rng.choice(small if (k % 2 and small) else big))
        pi = k % len(patches)
        plan.append((-1, 2, bg, patches[pi][0], ("paste", bg, pi, k)))
    for k in range(decoys):
        bg = int(rng.choice(small if (k % 2 and small) else big))
        plan.append((-1, 3, bg, -2, ("decoy", bg, k)))
    return plan, patches, pool  # type: ignore[return-value]


def build(
    frames: list[Frame],
    backbone: nn.Module,
    cache: Path,
    seed: int,
    aug: dict[str, int],
    pastes: int,
    decoys: int,
    log: Any,
) -> ViewSet:
    """Every view's cell labels and backbone maps (cached by the frame list and settings)."""
    key_parts = [[str(f.path) for f in frames], seed, aug, pastes, decoys, SPLIT, "v1"]
    key = hashlib.sha256(json.dumps(key_parts).encode()).hexdigest()[:16]
    path = cache / f"views-{key}.npz"
    if path.exists():
        log(f"views from cache {path}")
        with np.load(path) as data:
            return ViewSet(**{name: data[name] for name in data.files})
    plan, patches, pool = plan_views(frames, seed, aug, pastes, decoys)  # type: ignore[misc]
    session = _trunk_session(backbone, cache)
    top = Top(backbone).eval()
    n = len(plan)
    mid = np.zeros((n, 112, 14, 14), dtype=np.float16)
    final = np.zeros((n, GRID * GRID, 1280), dtype=np.float16)
    cells = np.zeros((n, GRID * GRID), dtype=np.int8)
    label = np.zeros(n, dtype=np.int8)
    images: dict[int, Image.Image] = {}
    started = time.time()

    def image_of(i: int) -> Image.Image:
        if i not in images:
            if len(images) > 64:
                images.clear()
            images[i] = _load_rgb(frames[i].path)
        return images[i]

    mean = np.float32(0.5)
    batch: list[np.ndarray] = []
    rows: list[int] = []

    def flush() -> None:
        if not batch:
            return
        x = np.stack(batch)
        m = session.run(None, {"image": x})[0]
        with torch.inference_mode():
            f = top(torch.from_numpy(m)).flatten(2).transpose(1, 2).numpy()
        mid[rows] = m.astype(np.float16)
        final[rows] = f.astype(np.float16)
        batch.clear()
        rows.clear()

    for row, (i, kind, bg, _patch, make) in enumerate(plan):
        rng = np.random.default_rng([seed, row])
        if kind == 0:
            f = frames[i]
            view = View(
                image_of(i).resize(SIZE, Image.Resampling.BILINEAR),
                cell_labels(f.boxes, f.label),
                f.label,
            )
        elif kind == 1:
            f = frames[i]
            view = augmented_view(image_of(i), f.boxes, f.label, rng, SIZE)
        elif kind == 2:
            view = paste(image_of(bg), patches[make[2]][1], rng, failure=True, size=SIZE)
        else:
            source, piece = _decoy_patch(frames, rng, pool)
            plan[row] = (i, kind, bg, source, make)
            view = paste(image_of(bg), piece, rng, failure=False, size=SIZE)
        pixels = np.asarray(view.image, dtype=np.float32) / 255.0
        batch.append(((pixels - mean) / mean).transpose(2, 0, 1).astype(np.float32))
        rows.append(row)
        cells[row] = view.cells.reshape(-1)
        label[row] = view.label
        if len(batch) == 32:
            flush()
        if row % 500 == 0:
            log(f"views {row}/{n} ({time.time() - started:.0f} s)")
    flush()
    result = ViewSet(
        frame=np.array([p[0] for p in plan], dtype=np.int32),
        kind=np.array([p[1] for p in plan], dtype=np.int8),
        background=np.array([p[2] for p in plan], dtype=np.int32),
        patch=np.array([p[3] for p in plan], dtype=np.int32),
        cells=cells,
        label=label,
        mid=mid,
        final=final,
    )
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{k: getattr(result, k) for k in result.__dataclass_fields__})
    log(f"{n} views in {time.time() - started:.0f} s, cached in {path}")
    return result


def _trunk_session(backbone: nn.Module, cache: Path) -> Any:
    import onnxruntime as ort

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"trunk-{SPLIT}.onnx"
    if not path.exists():
        torch.onnx.export(
            Trunk(backbone).eval(),
            (torch.zeros(1, 3, *SIZE),),
            str(path),
            dynamo=False,
            input_names=["image"],
            output_names=["mid"],
            dynamic_axes={"image": {0: "batch"}, "mid": {0: "batch"}},
            opset_version=17,
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
