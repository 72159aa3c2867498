"""The shipped model's outputs: score, logit, embedding and spatial map agree."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ml_addon.printfarm_detect import AdaptationParams
from ml_addon.printfarm_detect.model import FailureModel


def test_outputs_are_consistent(model: FailureModel, failure_frames: list[Path]) -> None:
    result = model.predict(failure_frames[0])
    assert math.isclose(result.score, 1 / (1 + math.exp(-result.logit)), rel_tol=1e-4)
    assert result.embedding.ndim == 1
    assert result.spatial_map.ndim == 2
    assert result.spatial_map.shape[0] >= 5
    assert np.all((result.spatial_map >= 0) & (result.spatial_map <= 1))


def test_logit_is_linear_in_the_embedding_as_the_metadata_says(
    model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    params = AdaptationParams.from_metadata(model.metadata)
    assert params.head_weight is not None
    results = [model.predict(p) for p in normal_frames + failure_frames]
    # logit = w . embedding + c with one constant c for every frame.
    offsets = [r.logit - float(params.head_weight @ r.embedding) for r in results]
    assert max(offsets) - min(offsets) < 1e-3


def test_spatial_map_shows_more_evidence_on_failures(
    model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    normal = [float(model.predict(p).spatial_map.max()) for p in normal_frames]
    failure = [float(model.predict(p).spatial_map.max()) for p in failure_frames]
    assert min(failure) > max(normal)


def test_cells_rebuild_the_logit_as_the_metadata_says(
    model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    """The head on the mean of the cells (plus the first-layer bias) is the model's logit."""
    params = AdaptationParams.from_metadata(model.metadata)
    assert params.head_weight is not None
    assert params.head_bias is not None
    assert params.cell_reference is not None
    offsets = []
    for path in normal_frames + failure_frames:
        result = model.predict(path)
        assert result.cells is not None
        assert result.cells.shape == params.cell_reference.shape
        hidden = np.maximum(result.cells.mean(axis=0) + params.head_bias, 0.0)
        offsets.append(result.logit - float(params.head_weight @ hidden))
    assert max(offsets) - min(offsets) < 1e-3


def test_the_model_corrects_with_the_parameters_its_card_measured(model: FailureModel) -> None:
    """The add-on reads its correction thresholds from the model, the same ones the card reports."""
    measured = json.loads((model.path.parent / "metrics.json").read_text())["adaptation"]["params"]
    params = AdaptationParams.from_metadata(model.metadata)
    for name in (
        "similarity_floor",
        "similarity_full",
        "margin",
        "cell_similarity_floor",
        "cell_similarity_full",
        "cell_agreement_floor",
        "cell_agreement_full",
    ):
        assert getattr(params, name) == measured[name], name
