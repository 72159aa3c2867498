"""The shipped model's outputs: score, logit, embedding and spatial map agree."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ml_addon.printfarm_detect import AdaptationParams
from ml_addon.printfarm_detect.model import FailureModel


def test_outputs_are_consistent(model: FailureModel, failure_frames: list[Path]) -> None:
    result = model.predict(failure_frames[0])
    assert math.isclose(result.score, 1 / (1 + math.exp(-result.logit)), rel_tol=1e-4)
    assert result.embedding.ndim == 1
    assert result.spatial_map.ndim == 2
    assert result.spatial_map.shape[0] >= 5
    assert np.all((result.spatial_map >= 0) & (result.spatial_map <= 1))


def test_the_logit_is_the_largest_region_logit_as_the_metadata_says(
    model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    """The add-on and the per-camera correction rebuild region logits from the cells."""
    params = AdaptationParams.from_metadata(model.metadata)
    assert params.head_weight is not None
    assert params.head_offset is not None
    for path in normal_frames + failure_frames:
        result = model.predict(path)
        assert result.cells is not None
        regions = result.cells.reshape(-1, params.head_weight.size) @ params.head_weight
        regions = regions + params.head_offset
        assert float(regions.max()) == pytest.approx(result.logit, abs=1e-3)
        np.testing.assert_allclose(result.region_logits.reshape(-1), regions, atol=0.02, rtol=1e-3)


def test_scores_are_not_saturated(
    model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    """Issue 14: normal frames scored exactly 1.0, so no threshold could separate them."""
    scores = [model.predict(p).score for p in normal_frames + failure_frames]
    assert all(0.0 < s < 1.0 for s in scores)
    assert len(set(scores)) == len(scores)


def test_spatial_map_shows_more_evidence_on_failures(
    model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    normal = [float(model.predict(p).spatial_map.max()) for p in normal_frames]
    failure = [float(model.predict(p).spatial_map.max()) for p in failure_frames]
    assert min(failure) > max(normal)


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
    ):
        assert getattr(params, name) == measured[name], name
