"""printfarm's failure detector runtime: onnxruntime, numpy and pillow only.

``FailureModel`` loads the ONNX model and the preprocessing recorded in its
metadata; ``AdaptationStore`` keeps per-camera corrections learned from user
feedback under the add-on's data directory.
"""

from __future__ import annotations

from .adaptation import AdaptationParams, AdaptationStore, CameraAdaptation, Feedback
from .detector import CameraDetection, Detector
from .model import Detection, FailureModel, default_model_path
from .preprocess import ModelFormatError, Preprocess

__all__ = [
    "AdaptationParams",
    "AdaptationStore",
    "CameraAdaptation",
    "CameraDetection",
    "Detection",
    "Detector",
    "FailureModel",
    "Feedback",
    "ModelFormatError",
    "Preprocess",
    "default_model_path",
]
