"""Model formats, keyed by ``format_key`` (the ``format`` of a model's YAML file)."""

from .base import Box, Evidence, FormatOptions, FrameAnalysis, ModelAdapter
from .classifier import ClassifierAdapter
from .obico import ObicoAdapter
from .printfarm import PrintfarmAdapter
from .yolo import YoloAdapter

FORMATS: dict[str, type[ModelAdapter]] = {
    adapter.format_key: adapter
    for adapter in (PrintfarmAdapter, YoloAdapter, ObicoAdapter, ClassifierAdapter)
}

__all__ = [
    "FORMATS",
    "Box",
    "ClassifierAdapter",
    "Evidence",
    "FormatOptions",
    "FrameAnalysis",
    "ModelAdapter",
    "ObicoAdapter",
    "PrintfarmAdapter",
    "YoloAdapter",
]
