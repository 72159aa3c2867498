"""Preprocessing comes from the model metadata and does what it says."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
import pytest

from ml_addon.printfarm_detect.model import FailureModel
from ml_addon.printfarm_detect.preprocess import ModelFormatError, Preprocess


def _meta(**overrides: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "size": [32, 16],
        "resize": "stretch",
        "resample": "bilinear",
        "color": "RGB",
        "layout": "NCHW",
        "scale": 1 / 255,
        "mean": [0.5, 0.25, 0.0],
        "std": [0.5, 0.25, 1.0],
    }
    section.update(overrides)
    return {"preprocess": section}


def test_shipped_model_reads_preprocessing_from_its_metadata(model: FailureModel) -> None:
    assert model.preprocess == Preprocess.from_metadata(model.metadata)
    inputs = model._session.get_inputs()[0]
    assert inputs.shape[2:] == [model.preprocess.height, model.preprocess.width]
    assert 0.0 < model.threshold < 1.0


def test_round_trip_through_metadata() -> None:
    pre = Preprocess.from_metadata(_meta())
    assert (
        Preprocess.from_metadata(json.loads(json.dumps({"preprocess": pre.to_metadata()}))) == pre
    )


def test_size_mean_and_std_are_applied() -> None:
    pre = Preprocess.from_metadata(_meta())
    image = Image.new("RGB", (100, 40), (255, 128, 0))
    tensor = pre.tensor(image)
    assert tensor.shape == (1, 3, 16, 32)
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[0, 0], (1.0 - 0.5) / 0.5, atol=1e-5)
    np.testing.assert_allclose(tensor[0, 1], (128 / 255 - 0.25) / 0.25, atol=1e-5)
    np.testing.assert_allclose(tensor[0, 2], 0.0, atol=1e-6)


def test_changed_metadata_changes_the_tensor() -> None:
    image = Image.new("RGB", (8, 8), (200, 200, 200))
    a = Preprocess.from_metadata(_meta()).tensor(image)
    b = Preprocess.from_metadata(_meta(mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0])).tensor(image)
    np.testing.assert_allclose(b[0, 0], 200 / 255, atol=1e-6)
    assert not np.allclose(a, b)


def test_large_jpeg_decoded_from_bytes_with_draft_matches_full_decode() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(27, 48, 3), dtype=np.uint8)
    frame = Image.fromarray(base).resize((1920, 1080), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    frame.save(buffer, format="JPEG", quality=90)
    fast = Preprocess.from_metadata(_meta(size=[224, 224]))
    full = Preprocess.from_metadata(_meta(size=[224, 224], jpeg_draft=False))
    a, b = fast.tensor(buffer.getvalue()), full.tensor(buffer.getvalue())
    assert a.shape == b.shape == (1, 3, 224, 224)
    # A smooth picture decoded at 1/4 scale stays close to the full decode.
    assert float(np.abs(a - b).mean()) < 0.05


def test_greyscale_and_rgba_inputs_become_rgb(tmp_path: Path) -> None:
    pre = Preprocess.from_metadata(_meta())
    grey = tmp_path / "grey.png"
    Image.new("L", (20, 20), 255).save(grey)
    rgba = tmp_path / "rgba.png"
    Image.new("RGBA", (20, 20), (255, 255, 255, 0)).save(rgba)
    for path in (grey, rgba):
        tensor = pre.tensor(path)
        assert tensor.shape == (1, 3, 16, 32)
        np.testing.assert_allclose(tensor[0, 0], 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "meta",
    [
        {},
        {"preprocess": "224"},
        _meta(size=[224]),
        _meta(size=[0, 224]),
        _meta(resize="letterbox"),
        _meta(color="BGR"),
        _meta(mean=[0.5, 0.5]),
        _meta(std=[0.5, 0.0, 0.5]),
        _meta(resample="lanczos9"),
        _meta(scale=-1),
    ],
)
def test_malformed_metadata_is_rejected(meta: dict[str, Any]) -> None:
    with pytest.raises(ModelFormatError):
        Preprocess.from_metadata(meta)


def test_to_array_refuses_unresized_images() -> None:
    pre = Preprocess.from_metadata(_meta())
    with pytest.raises(ValueError, match="input size"):
        pre.to_array(Image.new("RGB", (10, 10)))
