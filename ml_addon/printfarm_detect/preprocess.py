"""Image preprocessing described by the model's ONNX metadata.

The parameters (input size, resize mode, scaling, mean/std) are written into the
ONNX file by the training script and read back here, so the runtime cannot drift
from what the model was trained with. The training script imports this module too.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray
from PIL import Image

METADATA_KEY = "printfarm"
SCHEMA_VERSION = 1

ImageSource = str | Path | bytes | BinaryIO | Image.Image

_RESAMPLE = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
}


class ModelFormatError(ValueError):
    """The model file lacks (or has malformed) printfarm metadata."""


def _float_triple(raw: object, name: str) -> tuple[float, float, float]:
    if not isinstance(raw, list) or len(raw) != 3:
        raise ModelFormatError(f"preprocess.{name} must be a list of 3 numbers")
    values: list[float] = []
    for item in raw:
        if not isinstance(item, int | float) or isinstance(item, bool):
            raise ModelFormatError(f"preprocess.{name} must be a list of 3 numbers")
        values.append(float(item))
    return values[0], values[1], values[2]


@dataclass(frozen=True)
class Preprocess:
    """How a frame becomes the model's input tensor (NCHW, float32)."""

    width: int
    height: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: float = 1.0 / 255.0
    resample: str = "bilinear"
    jpeg_draft: bool = True

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Preprocess:
        """Build from the ``preprocess`` section of the printfarm metadata."""
        raw = meta.get("preprocess")
        if not isinstance(raw, dict):
            raise ModelFormatError("metadata has no 'preprocess' section")
        size = raw.get("size")
        if (
            not isinstance(size, list)
            or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
        ):
            raise ModelFormatError("preprocess.size must be [width, height] in pixels")
        if raw.get("resize", "stretch") != "stretch":
            raise ModelFormatError(f"unsupported resize mode {raw.get('resize')!r}")
        if raw.get("color", "RGB") != "RGB" or raw.get("layout", "NCHW") != "NCHW":
            raise ModelFormatError("only RGB input in NCHW layout is supported")
        resample = raw.get("resample", "bilinear")
        if resample not in _RESAMPLE:
            raise ModelFormatError(f"unsupported resample filter {resample!r}")
        scale = raw.get("scale", 1.0 / 255.0)
        if not isinstance(scale, int | float) or isinstance(scale, bool) or scale <= 0:
            raise ModelFormatError("preprocess.scale must be a positive number")
        std = _float_triple(raw.get("std"), "std")
        if any(s <= 0 for s in std):
            raise ModelFormatError("preprocess.std must be positive")
        return cls(
            width=size[0],
            height=size[1],
            mean=_float_triple(raw.get("mean"), "mean"),
            std=std,
            scale=float(scale),
            resample=str(resample),
            jpeg_draft=bool(raw.get("jpeg_draft", True)),
        )

    def to_metadata(self) -> dict[str, Any]:
        """The ``preprocess`` section as written into the ONNX file."""
        return {
            "size": [self.width, self.height],
            "resize": "stretch",
            "resample": self.resample,
            "color": "RGB",
            "layout": "NCHW",
            "scale": self.scale,
            "mean": list(self.mean),
            "std": list(self.std),
            "jpeg_draft": self.jpeg_draft,
        }

    def load(self, source: ImageSource) -> Image.Image:
        """Decode an image and resize it to the model's input size (RGB).

        JPEG frames are decoded at a reduced scale (``draft``) when that still
        leaves at least the input size: a 1080p frame then costs a fraction of a
        full decode.
        """
        if isinstance(source, Image.Image):
            image = source
        elif isinstance(source, bytes):
            image = Image.open(io.BytesIO(source))
        else:
            image = Image.open(source)
        if self.jpeg_draft and image.format == "JPEG":
            image.draft("RGB", (self.width, self.height))
        image = image.convert("RGB")
        if image.size != (self.width, self.height):
            image = image.resize((self.width, self.height), _RESAMPLE[self.resample])
        return image

    def to_array(self, image: Image.Image) -> NDArray[np.float32]:
        """Normalise an already resized RGB image into a CHW float32 array."""
        if image.size != (self.width, self.height) or image.mode != "RGB":
            raise ValueError("image must be RGB at the model's input size; use load() first")
        pixels = np.asarray(image, dtype=np.float32) * np.float32(self.scale)
        mean = np.asarray(self.mean, dtype=np.float32)
        std = np.asarray(self.std, dtype=np.float32)
        return np.ascontiguousarray(((pixels - mean) / std).transpose(2, 0, 1))

    def tensor(self, source: ImageSource) -> NDArray[np.float32]:
        """Decode, resize and normalise one frame into a 1xCxHxW batch."""
        return self.to_array(self.load(source))[np.newaxis]
