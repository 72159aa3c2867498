"""Camera-like colour changes with numpy (no torchvision here).

Exposure, contrast, saturation, white balance and gamma: what lighting and cheap sensors
do to a picture. ``views.camera_look`` adds the rest (IR greyscale, blur, noise, JPEG).
"""

from __future__ import annotations

import numpy as np


def colour(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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
