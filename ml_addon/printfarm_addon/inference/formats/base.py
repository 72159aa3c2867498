"""What every model format gives the service: a score per frame and where the evidence is."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ..backends import Backend, InferenceError, TensorSpec

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True, slots=True)
class Box:
    """A region of the frame, in 0-1 coordinates of the original image, with its confidence."""

    x1: float
    y1: float
    x2: float
    y2: float
    confidence: float
    label: str = "failure"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where the model saw the failure: boxes, or a grid of per-region probabilities."""

    boxes: tuple[Box, ...] = ()
    heatmap: NDArray[np.float32] | None = None


@dataclass(frozen=True, slots=True)
class FrameAnalysis:
    """One frame's result: a probability-like score, its log-odds, and the evidence.

    ``handle`` is what the format needs later to learn from the user's verdict on
    this frame (the default model's per-camera correction); None where it cannot.
    """

    score: float
    logit: float
    evidence: Evidence = field(default_factory=Evidence)
    handle: Any = None


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """Per-model settings from the sidecar YAML next to a user model (all optional)."""

    threshold: float | None = None
    box_threshold: float | None = None
    iou: float = 0.45
    failure_classes: tuple[str | int, ...] = ()
    input_size: tuple[int, int] | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    scale: float = 1.0 / 255.0
    activation: str | None = None  # classifier: softmax, sigmoid or none


class ModelAdapter(ABC):
    """A model format on a backend."""

    format_key: ClassVar[str]
    #: Per-frame failure threshold on ``FrameAnalysis.score`` (the decision's failure level).
    threshold: float

    def __init__(self, backend: Backend, options: FormatOptions) -> None:
        """Keep the backend; subclasses check its inputs and outputs."""
        self.backend = backend
        self.options = options

    @abstractmethod
    def analyse(self, camera_id: str, image: Image.Image) -> FrameAnalysis:
        """Score one RGB frame of ``camera_id``."""

    def false_alarm(self, camera_id: str, image: Image.Image) -> bool:
        """Learn that ``image`` shows no failure; False where the format cannot learn."""
        return False

    def reset(self, camera_id: str) -> None:  # noqa: B027 - nothing learnt by default
        """Forget what was learnt for ``camera_id``."""

    def describe(self) -> str:
        """Format and backend, for logs and the health endpoint."""
        return f"{self.format_key} on {self.backend.describe()}"

    def close(self) -> None:
        """Release the backend."""
        self.backend.close()


def single_input(backend: Backend) -> TensorSpec:
    """The model's only image input (NCHW, 3 channels)."""
    if len(backend.inputs) != 1:
        raise InferenceError("the model must have exactly one input")
    spec = backend.inputs[0]
    if len(spec.shape) != 4 or spec.shape[1] not in (3, None):
        raise InferenceError(f"input {spec.name} is not a batch of RGB images (N, 3, H, W)")
    return spec


def input_size(spec: TensorSpec, options: FormatOptions, default: int) -> tuple[int, int]:
    """(width, height) the model takes: its fixed shape, the sidecar's, or ``default``."""
    if options.input_size is not None:
        return options.input_size
    height, width = spec.shape[2], spec.shape[3]
    return (width or default, height or default)


def to_tensor(
    image: Image.Image,
    size: tuple[int, int],
    *,
    scale: float = 1.0 / 255.0,
    mean: tuple[float, float, float] | None = None,
    std: tuple[float, float, float] | None = None,
) -> NDArray[np.float32]:
    """Stretch-resize to ``size`` and normalise into a 1x3xHxW float32 batch."""
    resized = image if image.size == size else image.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(resized.convert("RGB"), dtype=np.float32) * np.float32(scale)
    if mean is not None and std is not None:
        pixels = (pixels - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))[np.newaxis]


def letterbox(
    image: Image.Image, size: tuple[int, int], fill: int = 114
) -> tuple[Image.Image, float, tuple[int, int]]:
    """Fit ``image`` into ``size`` keeping its aspect, padded; (image, scale, (pad_x, pad_y))."""
    width, height = size
    scale = min(width / image.width, height / image.height)
    new = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = Image.new("RGB", size, (fill, fill, fill))
    pad = ((width - new[0]) // 2, (height - new[1]) // 2)
    canvas.paste(image.resize(new, Image.Resampling.BILINEAR), pad)
    return canvas, scale, pad


def nms(boxes: NDArray[np.float32], scores: NDArray[np.float32], iou: float) -> list[int]:
    """Greedy non-maximum suppression on x1,y1,x2,y2 boxes; kept indices, best first."""
    order: list[int] = [int(i) for i in np.argsort(-scores)]
    keep: list[int] = []
    areas = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    while order:
        best = order.pop(0)
        keep.append(best)
        if not order:
            break
        rest = np.asarray(order, dtype=np.int64)
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
        union = areas[best] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = [int(i) for i, o in zip(rest, overlap, strict=True) if o <= iou]
    return keep


def parse_names(raw: str | None) -> dict[int, str]:
    """Class names from model metadata: Ultralytics' ``{0: 'a', 1: 'b'}`` or a JSON list/dict."""
    if not raw:
        return {}
    import ast
    import json

    value: object
    try:
        value = json.loads(raw)
    except ValueError:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return {}
    if isinstance(value, list):
        return {i: str(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        names = {}
        for key, name in value.items():
            try:
                names[int(key)] = str(name)
            except (TypeError, ValueError):
                continue
        return names
    return {}


FAILURE_WORDS = ("fail", "spaghetti", "defect", "error", "stringing", "detach", "blob")


def failure_indices(names: dict[int, str], wanted: tuple[str | int, ...], count: int) -> list[int]:
    """Which classes count as failure: the sidecar's list, else names that say so, else all."""
    if wanted:
        found = []
        for item in wanted:
            if isinstance(item, int) and 0 <= item < count:
                found.append(item)
            elif isinstance(item, str):
                found += [i for i, n in names.items() if n.lower() == item.lower() and i < count]
        if not found:
            raise InferenceError(f"none of the failure classes {list(wanted)} is in the model")
        return sorted(set(found))
    named = [
        i for i, n in names.items() if i < count and any(w in n.lower() for w in FAILURE_WORDS)
    ]
    return sorted(named) if named else list(range(count))
