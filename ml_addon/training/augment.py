"""Camera-like augmentation with PIL and numpy (no torchvision here).

Each view imitates something a print-farm camera does to a picture: other
framing (crops, aspect), lighting and white balance, colour casts, greyscale IR
night frames, blur, low resolution, sensor noise and JPEG artefacts.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def _random_crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    width, height = image.size
    area = width * height * rng.uniform(0.5, 1.0)
    aspect = float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
    cw = min(width, round((area * aspect) ** 0.5))
    ch = min(height, round((area / aspect) ** 0.5))
    x = int(rng.integers(0, width - cw + 1))
    y = int(rng.integers(0, height - ch + 1))
    return image.crop((x, y, x + cw, y + ch))


def _colour(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = pixels
    grey = out.mean(axis=2, keepdims=True)
    out = grey + (out - grey) * rng.uniform(0.5, 1.5)  # saturation
    mean = out.mean()
    out = mean + (out - mean) * rng.uniform(0.6, 1.4)  # contrast
    out = out * rng.uniform(0.55, 1.4)  # exposure
    if rng.random() < 0.5:  # white balance / colour cast
        out = out * rng.uniform(0.75, 1.25, size=3)
    out = np.clip(out, 0.0, 255.0)
    if rng.random() < 0.4:  # gamma: dim enclosures, harsh LEDs
        out = 255.0 * (out / 255.0) ** rng.uniform(0.6, 1.7)
    return out


def augment(image: Image.Image, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """One random camera-like view of an RGB image, resized (stretched) to ``size``."""
    view = _random_crop(image, rng) if rng.random() < 0.85 else image
    if rng.random() < 0.1:
        view = view.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BILINEAR)
    view = view.resize(size, Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    pixels = _colour(np.asarray(view, dtype=np.float32), rng)
    if rng.random() < 0.2:  # IR night frame: greyscale, often dark and noisy
        grey = pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        pixels = np.repeat(grey[..., None], 3, axis=2) * rng.uniform(0.5, 1.0)
    view = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.25:
        small = int(rng.integers(48, 128))
        view = view.resize((small, small), Image.Resampling.BILINEAR).resize(
            size, Image.Resampling.BILINEAR
        )
    if rng.random() < 0.25:
        view = view.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.0))))
    if rng.random() < 0.3:
        noisy = np.asarray(view, dtype=np.float32)
        noisy = noisy + rng.normal(0.0, rng.uniform(2.0, 10.0), size=noisy.shape)
        view = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        view.save(buffer, format="JPEG", quality=int(rng.integers(15, 76)))
        buffer.seek(0)
        view = Image.open(buffer).convert("RGB")
    return view


def new_camera(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A fixed, deterministic 'other camera' look used by the adaptation experiment.

    Greenish cast, washed-out contrast, vignetting, a bright timestamp bar and
    heavy JPEG: the kind of picture that tends to trip a detector trained on
    other cameras.
    """
    view = image.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(view, dtype=np.float32)
    pixels = 110.0 + (pixels - 110.0) * 0.6
    pixels = pixels * np.array([0.85, 1.15, 0.8], dtype=np.float32)
    h, w = pixels.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    pixels = pixels * (1.0 - 0.35 * np.clip(r2, 0, 1.5))[..., None]
    bar = max(1, h // 12)
    pixels[:bar, : w // 2] = 235.0
    pixels[2 : bar - 2, 4 : w // 2 - 4 : 3] = 20.0
    view = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    view.save(buffer, format="JPEG", quality=30)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def night_camera(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A fixed 'IR night camera' look: greyscale, dark, noisy, soft, low resolution, JPEG 25."""
    view = image.convert("L").resize((112, 112), Image.Resampling.BILINEAR)
    view = view.resize(size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1.0))
    pixels = np.asarray(view, dtype=np.float32)
    pixels = 255.0 * (pixels / 255.0) ** 1.6 * 0.8 + 12.0
    noise = np.random.default_rng(0).normal(0.0, 9.0, size=pixels.shape)
    pixels = np.clip(pixels + noise, 0, 255).astype(np.uint8)
    view = Image.fromarray(pixels).convert("RGB")
    buffer = io.BytesIO()
    view.save(buffer, format="JPEG", quality=25)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _tangle(size: tuple[int, int]) -> Image.Image:
    """A fixed tangle of thin filament strands in the upper right of the view (RGBA)."""
    rng = np.random.default_rng(5)
    w, h = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = 0.58 * w, 0.02 * h, 0.98 * w, 0.45 * h
    colours = ((235, 235, 230), (250, 140, 40), (200, 200, 205), (240, 220, 60))
    step = 2.5 * w / 224
    for strand in range(16):
        x, y = rng.uniform(left, right), rng.uniform(top, bottom)
        heading = rng.uniform(0.0, 2.0 * np.pi)
        points = [(x, y)]
        for _ in range(40):
            heading += rng.normal(0.0, 0.9)
            nx, ny = x + step * np.cos(heading), y + step * np.sin(heading)
            if not (left <= nx <= right and top <= ny <= bottom):  # turn back at the edge
                heading += np.pi
                nx, ny = x + step * np.cos(heading), y + step * np.sin(heading)
            x, y = nx, ny
            points.append((x, y))
        width = int(rng.integers(1, 5) * w / 224) or 1
        draw.line(points, fill=(*colours[strand % len(colours)], 255), width=width, joint="curve")
    return layer


def cluttered_camera(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A fixed camera with waste filament in view: the same tangle in every frame, JPEG 70.

    The base model flags many of this camera's normal frames because of the tangle,
    the situation the per-camera false-alarm marks are for.
    """
    view = image.convert("RGB").resize(size, Image.Resampling.BILINEAR).convert("RGBA")
    view.alpha_composite(_tangle(size))
    buffer = io.BytesIO()
    view.convert("RGB").save(buffer, format="JPEG", quality=70)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
