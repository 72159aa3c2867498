"""Inference: backends run a model, formats turn a frame into a score and evidence.

Like Frigate's detector plugins: each backend and each model format is a class
with a ``type_key`` in a registry, chosen by configuration, never by ``if``
chains elsewhere. Everything here is blocking and runs in the service's thread
pool.
"""

from .backends import BACKENDS, Backend, InferenceError, KServeBackend, LocalBackend, TensorSpec
from .formats import FORMATS, Evidence, FrameAnalysis, ModelAdapter
from .loader import ModelChoice, load_adapter

__all__ = [
    "BACKENDS",
    "FORMATS",
    "Backend",
    "Evidence",
    "FrameAnalysis",
    "InferenceError",
    "KServeBackend",
    "LocalBackend",
    "ModelAdapter",
    "ModelChoice",
    "TensorSpec",
    "load_adapter",
]
