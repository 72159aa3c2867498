"""Training views with region labels: box-aware camera augmentation and failure pasting.

The model scores each cell of a GRID x GRID map and calls a frame a failure when its
most failure-like cell is. So every training view carries a label per cell: 1 where a
failure box covers the cell, 0 where no box comes near it, -1 (ignored) in between or
where the source has no boxes. Three kinds of views:

- an augmented view of a labelled image: crops (down to close-ups), flips and camera
  looks (exposure, colour casts, greyscale IR, blur, low resolution, noise, JPEG). A
  crop of a web photo that leaves its failure boxes out is a normal frame of that photo,
  so "web photo" stops meaning "failure";
- a paste: a failure box cut from a web photo, feathered and blended onto a normal frame
  of a real printer camera, so the same background appears with and without a failure;
- a decoy paste: a box-free cut of another picture pasted the same way, labelled normal,
  so the pasting itself (a soft-edged patch of other texture) tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
import io

from augment import colour
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GRID = 7
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the picture


@dataclass
class View:
    """A 224x224 view with a label per cell and a frame label (-1: unknown)."""

    image: Image.Image
    cells: np.ndarray  # GRID x GRID int8: 1 failure, 0 normal, -1 ignore
    label: int


def cell_labels(boxes: list[Box] | None, frame_label: int) -> np.ndarray:
    """Per-cell labels of a view from its failure boxes (fractions of the view).

    Without boxes, a normal frame is normal everywhere and a failure frame is known
    only as a whole (every cell ignored, the frame label carries it).
    """
    if boxes is None:
        return np.full((GRID, GRID), 0 if frame_label == 0 else -1, dtype=np.int8)
    out = np.zeros((GRID, GRID), dtype=np.int8)
    step = 1.0 / GRID
    for row in range(GRID):
        for col in range(GRID):
            cx0, cy0 = col * step, row * step
            cx1, cy1 = cx0 + step, cy0 + step
            near = False
            for x0, y0, x1, y1 in boxes:
                iw = min(cx1, x1) - max(cx0, x0)
                ih = min(cy1, y1) - max(cy0, y0)
                if iw > 0 and ih > 0:
                    box_area = max((x1 - x0) * (y1 - y0), 1e-9)
                    cover = iw * ih / min(step * step, box_area)
                    if cover >= 0.5:
                        out[row, col] = 1
                        break
                # Within half a cell of a box: too close to call normal.
                if min(cx1 + step / 2, x1) > max(cx0 - step / 2, x0) and min(
                    cy1 + step / 2, y1
                ) > max(cy0 - step / 2, y0):
                    near = True
            else:
                if near:
                    out[row, col] = -1
    return out


def _crop_box(
    size: tuple[int, int], rng: np.random.Generator, min_area: float
) -> tuple[int, int, int, int]:
    width, height = size
    area = width * height * rng.uniform(min_area, 1.0)
    aspect = float(np.exp(rng.uniform(np.log(0.7), np.log(1.5))))
    cw = max(8, min(width, round((area * aspect) ** 0.5)))
    ch = max(8, min(height, round((area / aspect) ** 0.5)))
    x = int(rng.integers(0, width - cw + 1))
    y = int(rng.integers(0, height - ch + 1))
    return x, y, x + cw, y + ch


def _boxes_in(
    boxes: list[Box], crop: tuple[int, int, int, int], size: tuple[int, int]
) -> tuple[list[Box], bool]:
    """Boxes mapped into a crop, and whether some box is only partly inside it."""
    width, height = size
    cx0, cy0, cx1, cy1 = crop[0] / width, crop[1] / height, crop[2] / width, crop[3] / height
    out: list[Box] = []
    partial = False
    for x0, y0, x1, y1 in boxes:
        ix0, iy0, ix1, iy1 = max(x0, cx0), max(y0, cy0), min(x1, cx1), min(y1, cy1)
        if ix1 <= ix0 or iy1 <= iy0:
            continue
        kept = (ix1 - ix0) * (iy1 - iy0) / max((x1 - x0) * (y1 - y0), 1e-9)
        if kept < 0.6:
            partial = True
            if kept < 0.15:
                continue
        w, h = cx1 - cx0, cy1 - cy0
        out.append(((ix0 - cx0) / w, (iy0 - cy0) / h, (ix1 - cx0) / w, (iy1 - cy0) / h))
    return out, partial


def camera_look(view: Image.Image, rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """Exposure, colour, IR greyscale, blur, low resolution, noise, JPEG: what cameras do."""
    pixels = colour(np.asarray(view, dtype=np.float32), rng)
    if rng.random() < 0.25:  # greyscale / IR night camera
        grey = pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        pixels = np.repeat(grey[..., None], 3, axis=2) * rng.uniform(0.45, 1.05)
    if rng.random() < 0.15:  # dim enclosure lit from one side
        h, w = pixels.shape[:2]
        ramp = np.linspace(rng.uniform(0.3, 0.8), 1.0, w if rng.random() < 0.5 else h)
        pixels = pixels * (ramp[None, :, None] if ramp.size == w else ramp[:, None, None])
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.25:
        small = int(rng.integers(56, 140))
        out = out.resize((small, small), Image.Resampling.BILINEAR).resize(
            size, Image.Resampling.BILINEAR
        )
    if rng.random() < 0.25:
        out = out.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 1.8))))
    if rng.random() < 0.3:
        noisy = np.asarray(out, dtype=np.float32)
        noisy = noisy + rng.normal(0.0, rng.uniform(2.0, 10.0), size=noisy.shape)
        out = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        out.save(buffer, format="JPEG", quality=int(rng.integers(20, 90)))
        buffer.seek(0)
        out = Image.open(buffer).convert("RGB")
    return out


def augmented_view(
    image: Image.Image,
    boxes: list[Box] | None,
    label: int,
    rng: np.random.Generator,
    size: tuple[int, int] = (224, 224),
) -> View:
    """A random crop/flip/camera look of a labelled picture, with its cell labels."""
    # Close-ups (down to 12 % of the picture) imitate cameras next to the hotend.
    min_area = 0.12 if rng.random() < 0.35 else 0.45
    crop = _crop_box(image.size, rng, min_area) if rng.random() < 0.85 else (0, 0, *image.size)
    view = image.crop(crop).resize(size, Image.Resampling.BILINEAR)
    frame_label = label
    inside: list[Box] | None = None
    if boxes is not None:
        inside, partial = _boxes_in(boxes, crop, image.size)
        if inside:
            frame_label = 1
        elif partial:
            frame_label = -1
        else:
            frame_label = 0  # the crop left every failure out: a normal view of that scene
    elif label == 1 and crop != (0, 0, *image.size):
        frame_label = (
            -1
            if (crop[2] - crop[0]) * (crop[3] - crop[1]) < 0.6 * (image.size[0] * image.size[1])
            else 1
        )  # a small crop of an unboxed failure may have cut the failure out
    if rng.random() < 0.5:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if inside is not None:
            inside = [(1 - x1, y0, 1 - x0, y1) for x0, y0, x1, y1 in inside]
    view = camera_look(view, rng, size)
    return View(view, cell_labels(inside, frame_label), frame_label)


def _feather_mask(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A soft, irregular blob mask (L) filling most of ``size``."""
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    points = []
    for k in range(12):
        angle = 2 * np.pi * k / 12
        r = rng.uniform(0.75, 1.0)
        points.append((w / 2 + r * w / 2 * np.cos(angle), h / 2 + r * h / 2 * np.sin(angle)))
    draw.polygon(points, fill=255)
    return mask.filter(ImageFilter.GaussianBlur(max(1.0, 0.08 * min(w, h))))


def paste(
    background: Image.Image,
    patch: Image.Image,
    rng: np.random.Generator,
    *,
    failure: bool,
    size: tuple[int, int] = (224, 224),
) -> View:
    """``patch`` blended onto a random place of ``background`` (both RGB), as a view.

    The patch covers 3 to 30 % of the view, mostly in its lower two thirds (the bed),
    is brightness-matched halfway to the background and feathered at the edges.
    """
    crop = _crop_box(background.size, rng, 0.45) if rng.random() < 0.7 else (0, 0, *background.size)
    base = background.crop(crop).resize(size, Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    w, h = size
    area = rng.uniform(0.03, 0.30) * w * h
    aspect = patch.size[0] / max(1, patch.size[1])
    aspect = float(np.clip(aspect * np.exp(rng.uniform(-0.2, 0.2)), 0.4, 2.5))
    pw = int(np.clip((area * aspect) ** 0.5, 16, w))
    ph = int(np.clip((area / aspect) ** 0.5, 16, h))
    x = int(rng.integers(0, w - pw + 1))
    y = int(rng.integers(int(0.25 * (h - ph)), h - ph + 1))
    piece = patch.resize((pw, ph), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        piece = piece.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    target = np.asarray(base.crop((x, y, x + pw, y + ph)), dtype=np.float32)
    source = np.asarray(piece, dtype=np.float32)
    gain = (target.mean() + 1.0) / (source.mean() + 1.0)
    source = source * (1.0 + (gain - 1.0) * rng.uniform(0.3, 0.8))
    piece = Image.fromarray(np.clip(source, 0, 255).astype(np.uint8))
    mask = _feather_mask((pw, ph), rng)
    base.paste(piece, (x, y), mask)
    view = camera_look(base, rng, size)
    # The failure is where the mask is mostly opaque: the inner part of the pasted box.
    margin = 0.15
    box: Box = (
        (x + margin * pw) / w,
        (y + margin * ph) / h,
        (x + (1 - margin) * pw) / w,
        (y + (1 - margin) * ph) / h,
    )
    if failure:
        return View(view, cell_labels([box], 1), 1)
    return View(view, np.zeros((GRID, GRID), dtype=np.int8), 0)
