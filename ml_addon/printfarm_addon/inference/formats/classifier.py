"""A plain image classifier: one output of class scores per frame.

Input: RGB stretched to the model's size (224 when dynamic), scaled by
``scale`` and normalised with ``mean``/``std`` (ImageNet's unless the sidecar
says otherwise). Output ``[1, classes]`` (or ``[1]`` / ``[1, 1]`` for a single
failure score). Probabilities are used as they are; logits go through softmax
(several classes) or the logistic function (one), unless ``activation`` says.
The failure classes are the sidecar's ``failure_classes``, else the classes whose
name says failure (fail, spaghetti, defect ...), else class 1 of two.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ....printfarm_detect.decision import to_logit
from ..backends import Backend, InferenceError
from .base import (
    FAILURE_WORDS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    FormatOptions,
    FrameAnalysis,
    ModelAdapter,
    failure_indices,
    input_size,
    parse_names,
    single_input,
    to_tensor,
)

DEFAULT_THRESHOLD = 0.5


def _softmax(values: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(values - values.max())
    result: NDArray[np.float64] = shifted / shifted.sum()
    return result


class ClassifierAdapter(ModelAdapter):
    """Classifiers of whole frames."""

    format_key = "classifier"

    def __init__(self, backend: Backend, options: FormatOptions) -> None:
        """Check for one output of class scores."""
        super().__init__(backend, options)
        self._input = single_input(backend)
        if len(backend.outputs) != 1 or len(backend.outputs[0].shape) > 2:
            raise InferenceError("a classifier has one output of shape [1, classes]")
        self._output = backend.outputs[0].name
        self.size = input_size(self._input, options, 224)
        meta = backend.metadata
        self.names = parse_names(meta.get("names") or meta.get("labels") or meta.get("classes"))
        self.threshold = options.threshold or DEFAULT_THRESHOLD
        self.mean = options.mean or IMAGENET_MEAN
        self.std = options.std or IMAGENET_STD

    def _failure_classes(self, count: int) -> list[int]:
        if count == 1:
            return [0]
        named = any(any(w in n.lower() for w in FAILURE_WORDS) for n in self.names.values())
        if not self.options.failure_classes and not named:
            if count == 2:
                return [1]
            raise InferenceError(
                f"the classifier has {count} classes: name the failure classes in its YAML file"
            )
        return failure_indices(self.names, self.options.failure_classes, count)

    def _probabilities(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        activation = self.options.activation
        if activation is None:
            looks_like_probabilities = bool(np.all((values >= 0) & (values <= 1)))
            if len(values) > 1:
                looks_like_probabilities &= math.isclose(float(values.sum()), 1.0, abs_tol=1e-3)
            activation = (
                "none"
                if looks_like_probabilities
                else ("softmax" if len(values) > 1 else "sigmoid")
            )
        if activation == "softmax":
            return _softmax(values)
        if activation == "sigmoid":
            return np.asarray(1.0 / (1.0 + np.exp(-values)), dtype=np.float64)
        return values

    def analyse(self, camera_id: str, image: Image.Image) -> FrameAnalysis:
        """Probability of the failure classes."""
        batch = to_tensor(image, self.size, scale=self.options.scale, mean=self.mean, std=self.std)
        raw = self.backend.infer({self._input.name: batch}, [self._output])[self._output]
        values = np.asarray(raw, dtype=np.float64).reshape(-1)
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise InferenceError("the classifier answered no finite scores")
        probabilities = self._probabilities(values)
        score = float(np.clip(probabilities[self._failure_classes(len(values))].sum(), 0.0, 1.0))
        return FrameAnalysis(score=score, logit=to_logit(score))
