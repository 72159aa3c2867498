"""Load the failure model (ONNX) and run it on camera frames."""

from __future__ import annotations

from dataclasses import dataclass
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
import onnxruntime as ort  # type: ignore[import-untyped]

from .preprocess import (
    METADATA_KEY,
    SCHEMA_VERSION,
    ImageSource,
    ModelFormatError,
    Preprocess,
)

MODEL_ENV = "PRINTFARM_MODEL"
OUTPUT_NAMES = ("score", "logit", "embedding", "spatial_map")
CELLS_OUTPUT = "cells"  # optional: per-region projections for the region correction


def default_model_path() -> Path:
    """``$PRINTFARM_MODEL`` if set, else the model shipped next to this package."""
    override = os.environ.get(MODEL_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "models" / "default.onnx"


def logit(probability: float) -> float:
    """Inverse of the logistic function, clipped away from 0 and 1."""
    p = min(max(probability, 1e-7), 1.0 - 1e-7)
    return math.log(p / (1.0 - p))


def sigmoid(value: float) -> float:
    """Logistic function that does not overflow for large magnitudes."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    z = math.exp(value)
    return z / (1.0 + z)


@dataclass(frozen=True)
class Detection:
    """What the model says about one frame.

    ``score`` is the failure probability and ``logit`` its calibrated log-odds (the
    largest region's logit); ``failure`` compares the score with the threshold in
    use. ``embedding`` describes the whole frame (the mean of the regions' hidden
    vectors, centred): use it to compare a frame with a camera's earlier frames.
    ``spatial_map`` is a coarse grid (rows x cols) of per-region failure
    probabilities, and ``cells`` (regions x hidden, when the model has that output)
    the regions' hidden vectors, which the per-camera region correction compares.
    """

    score: float
    logit: float
    failure: bool
    threshold: float
    embedding: NDArray[np.float32]
    spatial_map: NDArray[np.float32]
    cells: NDArray[np.float32] | None = None

    @property
    def region_logits(self) -> NDArray[np.float32]:
        """Each region's logit (rows x cols), from ``spatial_map``; the largest is ``logit``.

        This is what a per-print reference compares region by region (see the model card).
        """
        p = np.clip(self.spatial_map.astype(np.float64), 1e-7, 1.0 - 1e-7)
        out: NDArray[np.float32] = np.log(p / (1.0 - p)).astype(np.float32)
        return out


def read_metadata(session: ort.InferenceSession) -> dict[str, Any]:
    """The printfarm JSON metadata stored in an ONNX model."""
    custom = session.get_modelmeta().custom_metadata_map
    raw = custom.get(METADATA_KEY)
    if raw is None:
        raise ModelFormatError(f"model has no '{METADATA_KEY}' metadata entry")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ModelFormatError(f"'{METADATA_KEY}' metadata is not JSON: {err}") from err
    if not isinstance(meta, dict):
        raise ModelFormatError(f"'{METADATA_KEY}' metadata must be a JSON object")
    if meta.get("schema") != SCHEMA_VERSION:
        raise ModelFormatError(f"unsupported metadata schema {meta.get('schema')!r}")
    return meta


class FailureModel:
    """An ONNX failure model plus the preprocessing recorded in its metadata."""

    def __init__(self, path: Path | str | None = None, *, threads: int = 1) -> None:
        self.path = Path(path) if path is not None else default_model_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(
            str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.metadata = read_metadata(self._session)
        self.preprocess = Preprocess.from_metadata(self.metadata)
        threshold = self.metadata.get("threshold")
        if not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
            raise ModelFormatError("metadata 'threshold' must be a probability in (0, 1)")
        self.threshold = float(threshold)
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise ModelFormatError("model must have exactly one input")
        self._input_name = inputs[0].name
        names = {o.name for o in self._session.get_outputs()}
        missing = [n for n in OUTPUT_NAMES if n not in names]
        if missing:
            raise ModelFormatError(f"model lacks outputs {missing}")
        self._outputs = list(OUTPUT_NAMES) + ([CELLS_OUTPUT] if CELLS_OUTPUT in names else [])

    def run(
        self, batch: NDArray[np.float32]
    ) -> tuple[
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32] | None,
    ]:
        """Raw outputs for a preprocessed NCHW batch: score, logit, embedding, map, cells.

        ``cells`` is N x regions x hidden, or None if the model lacks that output.
        """
        score, logit_, embedding, spatial, *rest = (
            np.asarray(o, dtype=np.float32)
            for o in self._session.run(self._outputs, {self._input_name: batch})
        )
        cells = rest[0].reshape(rest[0].shape[0], -1, rest[0].shape[-1]) if rest else None
        return score, logit_, embedding, spatial, cells

    def predict(self, source: ImageSource, *, threshold: float | None = None) -> Detection:
        """Score one frame (path, bytes, file object or PIL image)."""
        return self.predict_tensor(self.preprocess.tensor(source), threshold=threshold)

    def predict_tensor(
        self, batch: NDArray[np.float32], *, threshold: float | None = None
    ) -> Detection:
        """Score one already preprocessed frame (a 1xCxHxW batch)."""
        if batch.ndim != 4 or batch.shape[0] != 1:
            raise ValueError("predict_tensor expects a batch of exactly one frame")
        score, logit_, embedding, spatial, cells = self.run(batch)
        limit = self.threshold if threshold is None else threshold
        value = float(score.reshape(-1)[0])
        return Detection(
            score=value,
            logit=float(logit_.reshape(-1)[0]),
            failure=value >= limit,
            threshold=limit,
            embedding=embedding[0],
            spatial_map=spatial[0],
            cells=None if cells is None else cells[0],
        )
