"""Model-format adapters on small generated ONNX models of each format, and the default model."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
import pytest

from ml_addon.printfarm_addon.inference import InferenceError, ModelChoice, load_adapter
from ml_addon.printfarm_addon.inference.formats import (
    ClassifierAdapter,
    ObicoAdapter,
    PrintfarmAdapter,
    YoloAdapter,
)
from ml_addon.printfarm_addon.inference.formats.base import nms, parse_names

from .onnx_models import classifier_model, obico_model, yolo_model

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ROOT / "simulator" / "frames"

WHITE = Image.new("RGB", (320, 240), (255, 255, 255))
BLACK = Image.new("RGB", (320, 240), (0, 0, 0))


def test_yolo_export_is_recognised_and_scored(tmp_path: Path) -> None:
    adapter = load_adapter(ModelChoice(path=yolo_model(tmp_path / "yolo.onnx")), tmp_path)
    assert isinstance(adapter, YoloAdapter)
    assert adapter.size == (64, 64)
    bright = adapter.analyse("cam", WHITE)
    dark = adapter.analyse("cam", BLACK)
    # Only the failure class counts: 'nozzle' scores 0.9 on every frame and is ignored.
    assert bright.score > 0.8  # brightness, padding included
    assert dark.score == 0.0
    assert bright.evidence.boxes
    assert all(box.label == "spaghetti" for box in bright.evidence.boxes)
    for box in bright.evidence.boxes:
        assert 0.0 <= box.x1 < box.x2 <= 1.0
        assert 0.0 <= box.y1 < box.y2 <= 1.0
    assert adapter.threshold == 0.6


def test_yolo_sidecar_can_name_other_classes(tmp_path: Path) -> None:
    model = yolo_model(tmp_path / "custom.onnx")
    (tmp_path / "custom.yaml").write_text(
        "format: yolo\nfailure_classes: [nozzle]\nthreshold: 0.7\n"
    )
    adapter = load_adapter(ModelChoice(path=model), tmp_path)
    assert adapter.threshold == 0.7
    assert adapter.analyse("cam", BLACK).score == pytest.approx(0.9)


def test_obico_model_is_recognised_and_scored(tmp_path: Path) -> None:
    adapter = load_adapter(ModelChoice(path=obico_model(tmp_path / "obico.onnx")), tmp_path)
    assert isinstance(adapter, ObicoAdapter)
    bright = adapter.analyse("cam", WHITE)
    dark = adapter.analyse("cam", BLACK)
    assert dark.score == 0.0
    assert dark.evidence.boxes == ()
    assert 0.9 < bright.score < 1.0  # noisy-or of the boxes that survive NMS
    assert bright.evidence.boxes[0].confidence == pytest.approx(0.9)


def test_classifier_is_recognised_and_scored(tmp_path: Path) -> None:
    adapter = load_adapter(ModelChoice(path=classifier_model(tmp_path / "cls.onnx")), tmp_path)
    assert isinstance(adapter, ClassifierAdapter)
    assert adapter.analyse("cam", WHITE).score > 0.99
    assert adapter.analyse("cam", BLACK).score < 0.01


def test_classifier_class_from_names(tmp_path: Path) -> None:
    model = classifier_model(tmp_path / "cls.onnx", names='["spaghetti", "fine"]')
    adapter = load_adapter(ModelChoice(path=model), tmp_path)
    # class 0 is the failure now: a dark frame (class 0 wins) scores high
    assert adapter.analyse("cam", BLACK).score > 0.99


def test_default_model_through_the_detector(tmp_path: Path) -> None:
    adapter = load_adapter(ModelChoice(), tmp_path)
    assert isinstance(adapter, PrintfarmAdapter)
    failure = Image.open(FRAMES / "failure" / "failure_1.jpg").convert("RGB")
    normal = Image.open(FRAMES / "normal" / "normal_1.jpg").convert("RGB")
    seen = adapter.analyse("printer_1", failure)
    assert seen.score >= adapter.threshold
    assert seen.evidence.heatmap is not None
    assert seen.evidence.heatmap.ndim == 2
    assert adapter.analyse("printer_1", normal).score < adapter.threshold
    # a false-alarm mark is stored under the data dir and lowers that camera's score
    assert adapter.false_alarm("printer_1", failure)
    assert any((tmp_path / "adaptation").iterdir())
    assert adapter.analyse("printer_1", failure).score < seen.score
    assert adapter.analyse("printer_2", failure).score == pytest.approx(seen.score)
    adapter.reset("printer_1")
    assert adapter.analyse("printer_1", failure).score == pytest.approx(seen.score)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "cannot load model"),
        (b"this is not a model", "cannot load model"),
    ],
)
def test_corrupt_model_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    with pytest.raises(InferenceError, match=message):
        load_adapter(ModelChoice(path=path), tmp_path)


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InferenceError, match="does not exist"):
        load_adapter(ModelChoice(path=tmp_path / "nope.onnx"), tmp_path)


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ("format: darknet\n", "format must be one of"),
        ("threshold: 2\n", "threshold must be"),
        ("- a list\n", "mapping"),
        ("input_size: [1]\n", "input_size"),
        ("failure_classes: [{a: 1}]\n", "failure_classes"),
        ("key: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_sidecar_is_a_clear_error(tmp_path: Path, sidecar: str, message: str) -> None:
    model = classifier_model(tmp_path / "m.onnx")
    (tmp_path / "m.yaml").write_text(sidecar)
    with pytest.raises(InferenceError, match=message):
        load_adapter(ModelChoice(path=model), tmp_path)


def test_names_parsing_accepts_ultralytics_and_json_and_rejects_junk() -> None:
    assert parse_names("{0: 'spaghetti', 1: 'blob'}") == {0: "spaghetti", 1: "blob"}
    assert parse_names('["a", "b"]') == {0: "a", 1: "b"}
    assert parse_names("__import__('os')") == {}
    assert parse_names(None) == {}


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    import numpy as np

    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    scores = np.array([0.5, 0.9, 0.4], np.float32)
    assert nms(boxes, scores, 0.45) == [1, 2]
