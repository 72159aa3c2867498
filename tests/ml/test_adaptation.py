"""Per-camera adaptation: stored marks change later scores, reversibly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageEnhance
import pytest

from ml_addon.printfarm_detect import (
    AdaptationParams,
    AdaptationStore,
    CameraAdaptation,
    Detector,
    FailureModel,
    Feedback,
)
from ml_addon.printfarm_detect.adaptation import MAX_MARKS, camera_file_name

THRESHOLD = 0.5
PARAMS = AdaptationParams(similarity_floor=0.6, similarity_full=0.8, margin=1.0)


def _unit(rng: np.random.Generator, dim: int = 64) -> NDArray[np.float64]:
    v = rng.normal(size=dim)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def _near(base: NDArray[np.float64], rng: np.random.Generator, noise: float) -> NDArray[np.float64]:
    v = base + noise * rng.normal(size=base.size) / math.sqrt(base.size)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def _camera(tmp_path: Path) -> CameraAdaptation:
    return CameraAdaptation(tmp_path / "cam.npz", threshold=THRESHOLD, params=PARAMS)


def test_without_marks_scores_are_unchanged(tmp_path: Path) -> None:
    camera = _camera(tmp_path)
    e = _unit(np.random.default_rng(1))
    assert camera.adjust_logit(2.5, e) == 2.5
    assert camera.adjust_score(0.9, e) == pytest.approx(0.9)


def test_false_alarm_mark_clears_similar_frames_but_not_different_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    camera = _camera(tmp_path)
    background = _unit(rng)
    camera.add(background, 2.0, Feedback.FALSE_ALARM)
    assert camera.false_alarms == 1
    # The same scene a moment later: pulled below the threshold by the margin.
    same_scene = _near(background, rng, 0.2)
    assert float(same_scene @ background) > PARAMS.similarity_full
    assert camera.adjust_logit(3.0, same_scene) == pytest.approx(-1.0)
    # An unrelated picture (a real failure) keeps its score.
    other = _unit(rng)
    assert abs(float(other @ background)) < PARAMS.similarity_floor
    assert camera.adjust_logit(3.0, other) == 3.0
    # Frames already below the threshold minus margin are not pushed further down.
    assert camera.adjust_logit(-4.0, same_scene) == -4.0


def test_partial_similarity_gives_partial_correction(tmp_path: Path) -> None:
    camera = _camera(tmp_path)
    mark = np.zeros(64)
    mark[0] = 1.0
    camera.add(mark, 2.0, Feedback.FALSE_ALARM)
    halfway = np.zeros(64)
    halfway[0] = 0.7  # cosine 0.7: halfway between floor 0.6 and full 0.8
    halfway[1] = math.sqrt(1 - 0.49)
    assert camera.adjust_logit(3.0, halfway) == pytest.approx(3.0 - 0.5 * 4.0)


def test_missed_failure_mark_raises_similar_frames(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    camera = _camera(tmp_path)
    failure = _unit(rng)
    camera.add(failure, -3.0, Feedback.MISSED_FAILURE)
    assert camera.missed_failures == 1
    assert camera.adjust_logit(-2.0, _near(failure, rng, 0.1)) == pytest.approx(1.0)
    assert camera.adjust_logit(-2.0, _unit(rng)) == -2.0


def test_marks_persist_and_reset_removes_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    background = _unit(rng)
    _camera(tmp_path).add(background, 2.0, Feedback.FALSE_ALARM)
    reloaded = _camera(tmp_path)
    assert reloaded.false_alarms == 1
    assert reloaded.adjust_logit(3.0, background) < 0
    reloaded.reset()
    assert not (tmp_path / "cam.npz").exists()
    assert reloaded.adjust_logit(3.0, background) == 3.0
    assert _camera(tmp_path).false_alarms == 0


def test_marks_are_capped_keeping_the_latest(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    camera = _camera(tmp_path)
    for _ in range(MAX_MARKS + 3):
        camera.add(_unit(rng, 8), 1.0, Feedback.FALSE_ALARM)
    assert camera.false_alarms == MAX_MARKS
    camera.add(_unit(rng, 8), -1.0, Feedback.MISSED_FAILURE)
    assert _camera(tmp_path).missed_failures == 1


def test_bad_inputs_are_rejected(tmp_path: Path) -> None:
    camera = _camera(tmp_path)
    with pytest.raises(ValueError, match="non-zero"):
        camera.add(np.zeros(8), 1.0, Feedback.FALSE_ALARM)
    camera.add(np.ones(8), 1.0, Feedback.FALSE_ALARM)
    with pytest.raises(ValueError, match="embedding size"):
        camera.add(np.ones(9), 1.0, Feedback.FALSE_ALARM)
    with pytest.raises(ValueError, match="similarity_floor"):
        AdaptationParams(similarity_floor=0.9, similarity_full=0.8)


def test_store_keeps_cameras_apart_with_safe_file_names(tmp_path: Path) -> None:
    store = AdaptationStore(tmp_path, threshold=THRESHOLD, params=PARAMS)
    e = _unit(np.random.default_rng(6))
    store.camera("camera.printer_1").add(e, 2.0, Feedback.FALSE_ALARM)
    assert store.camera("camera.printer_2").adjust_logit(3.0, e) == 3.0
    assert store.camera("camera.printer_1").adjust_logit(3.0, e) < 0
    names = {camera_file_name(c) for c in ("../../etc/passwd", "a/b", "a_b", "")}
    assert len(names) == 4
    assert all("/" not in n and not n.startswith(".") for n in names)
    assert all(p.parent == tmp_path / "adaptation" for p in (tmp_path / "adaptation").iterdir())


def _camera_views(frames: list[Path]) -> list[Image.Image]:
    """Frames of one fixed camera over time: light changes, a little jitter and noise."""
    rng = np.random.default_rng(11)
    views = []
    for path in frames:
        with Image.open(path) as raw:
            image = raw.convert("RGB")
        w, h = image.size
        for k, brightness in enumerate((0.85, 0.95, 1.05, 1.15, 1.0)):
            crop = image.crop((k * w // 200, k * h // 200, w - (4 - k) * w // 200, h))
            lit = np.asarray(ImageEnhance.Brightness(crop).enhance(brightness), dtype=np.float32)
            noisy = np.clip(lit + rng.normal(0.0, 4.0, size=lit.shape), 0, 255).astype(np.uint8)
            views.append(Image.fromarray(noisy))
    return views


def test_a_few_false_alarm_marks_clear_a_cameras_false_alarms_and_keep_recall(
    tmp_path: Path, model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    normal = _camera_views(normal_frames)
    failures = _camera_views(failure_frames)
    # A threshold at which the base model flags every normal frame of this camera:
    # the situation of a camera the model was not trained on.
    lowest = min(model.predict(v).score for v in normal)
    detector = Detector(model, tmp_path, threshold=lowest * 0.99)
    before_normal = [detector.detect("cam", v) for v in normal]
    before_failure = [detector.detect("cam", v) for v in failures]
    assert all(r.failure for r in before_normal)
    assert all(r.failure for r in before_failure)

    # The user marks one frame of each scene (4 marks) as a false alarm.
    marked = set(range(0, len(normal), 5))
    for i in marked:
        detector.mark(before_normal[i], Feedback.FALSE_ALARM)

    after_normal = [detector.detect("cam", v) for i, v in enumerate(normal) if i not in marked]
    after_failure = [detector.detect("cam", v) for v in failures]
    remaining = sum(r.failure for r in after_normal)
    assert remaining <= len(after_normal) // 5  # most false alarms are gone
    assert all(r.failure for r in after_failure)  # recall kept
    assert any(r.adapted for r in after_normal)

    # Reversible: after a reset the camera is back to the base model.
    detector.reset("cam")
    assert all(detector.detect("cam", v).failure for v in normal)


def test_marks_of_one_camera_do_not_affect_another(
    tmp_path: Path, model: FailureModel, normal_frames: list[Path]
) -> None:
    detector = Detector(model, tmp_path, threshold=1e-6)
    first = detector.detect("cam_a", normal_frames[0])
    detector.mark(first, Feedback.FALSE_ALARM)
    assert not detector.detect("cam_a", normal_frames[0]).failure
    other = detector.detect("cam_b", normal_frames[0])
    assert other.failure
    assert not other.adapted


def test_camera_subspace_removes_the_cameras_shift_but_not_new_evidence(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    dim = 64
    weight = np.zeros(dim, dtype=np.float32)
    weight[0] = 1.0  # the head: logit = x[0] + bias, bias folded into the logits below
    weight[1] = 1.0
    reference = np.zeros(dim, dtype=np.float32)
    params = AdaptationParams(
        similarity_floor=0.9998,
        similarity_full=0.9999,  # the nearest-mark correction stays out of this test
        margin=0.5,
        head_weight=weight,
        normal_reference=reference,
    )
    camera = CameraAdaptation(tmp_path / "cam.npz", threshold=THRESHOLD, params=params)
    shift = np.zeros(dim)
    shift[0] = 3.0  # this camera's look raises the logit by 3
    shift[5] = 4.0

    def frame(extra: float = 0.0) -> tuple[NDArray[np.float64], float]:
        e = reference + shift + rng.normal(0.0, 0.1, size=dim)
        e[1] += extra  # new evidence (spaghetti) along another feature
        return e, float(weight @ e) - 1.0

    for _ in range(5):
        e, logit = frame()
        assert logit > 0  # flagged at threshold 0.5
        camera.add(e, logit, Feedback.FALSE_ALARM)
    normal_after = [camera.adjust_logit(lg, e) for e, lg in (frame() for _ in range(20))]
    assert all(v < 0 for v in normal_after)
    failure, failure_logit = frame(extra=4.0)
    assert camera.adjust_logit(failure_logit, failure) > 0
    # The correction never exceeds what the marks needed (their logit + margin).
    big = reference + 10 * shift
    assert camera.adjust_logit(float(weight @ big), big) > float(weight @ big) - 3.0 - 0.5 - 0.6


def test_missed_failure_subspace_raises_the_cameras_hidden_failures(tmp_path: Path) -> None:
    """Mirror image of the false-alarm subspace: a dark camera hides its failures."""
    rng = np.random.default_rng(8)
    dim = 64
    weight = np.zeros(dim, dtype=np.float32)
    weight[0] = 1.0
    weight[1] = 1.0  # feature 1 is failure evidence
    normal_reference = np.zeros(dim, dtype=np.float32)
    failure_reference = normal_reference.copy()
    failure_reference[1] = 4.0  # a typical training failure: logit 4 - 1 = 3
    params = AdaptationParams(
        similarity_floor=0.9998,
        similarity_full=0.9999,  # the nearest-mark correction stays out of this test
        margin=0.5,
        head_weight=weight,
        normal_reference=normal_reference,
        failure_reference=failure_reference,
    )
    camera = CameraAdaptation(tmp_path / "cam.npz", threshold=THRESHOLD, params=params)
    look = np.zeros(dim)
    look[0] = -3.0  # this camera's look lowers every logit by 3
    look[5] = 4.0

    def frame(evidence: float) -> tuple[NDArray[np.float64], float]:
        e = normal_reference + look + rng.normal(0.0, 0.1, size=dim)
        e[1] += evidence
        return e, float(weight @ e) - 1.0

    marked = []
    for _ in range(5):
        e, logit = frame(3.0)
        assert logit < 0  # missed at threshold 0.5
        camera.add(e, logit, Feedback.MISSED_FAILURE)
        marked.append(logit)
    assert camera.missed_failures == 5
    failures_after = [camera.adjust_logit(lg, e) for e, lg in (frame(3.0) for _ in range(20))]
    assert all(v > 0 for v in failures_after)
    # Normal frames of the camera are raised by no more than the marks needed (+ margin).
    for e, logit in (frame(0.0) for _ in range(20)):
        adjusted = camera.adjust_logit(logit, e)
        assert logit < adjusted <= logit + (0.5 - min(marked)) + 1e-5
        assert adjusted < 0
    # A frame whose deviation from a typical failure has nothing of this camera's look
    # (another camera) is not raised.
    other = failure_reference.astype(np.float64)
    other[7], other[9] = 4.0, -3.0
    assert camera.adjust_logit(-3.0, other) == -3.0


def _mirror(params: AdaptationParams) -> AdaptationParams:
    assert params.head_weight is not None
    return AdaptationParams(
        similarity_floor=params.similarity_floor,
        similarity_full=params.similarity_full,
        margin=params.margin,
        head_weight=-params.head_weight,
        normal_reference=params.failure_reference,
        failure_reference=params.normal_reference,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_missed_failure_marks_act_as_the_mirror_image_of_false_alarm_marks(
    tmp_path: Path, seed: int
) -> None:
    """Negate the head, swap the references and the marks' kinds: every score negates."""
    rng = np.random.default_rng(seed)
    dim = 8
    weight = rng.normal(size=dim)
    looks = [rng.normal(size=dim) for _ in range(2)]  # one per kind of mark
    params = AdaptationParams(
        similarity_floor=0.3,
        similarity_full=0.7,
        margin=0.25,
        head_weight=weight.astype(np.float32),
        # The camera's look pushes towards "failure" seen from the normal reference and
        # towards "no failure" seen from the failure reference: both subspaces act.
        normal_reference=(looks[0] - weight).astype(np.float32),
        failure_reference=(looks[1] + weight).astype(np.float32),
    )
    camera = CameraAdaptation(tmp_path / "a.npz", threshold=0.5, params=params)
    mirror = CameraAdaptation(tmp_path / "b.npz", threshold=0.5, params=_mirror(params))
    for kind, other, look in (
        (Feedback.FALSE_ALARM, Feedback.MISSED_FAILURE, looks[0]),
        (Feedback.MISSED_FAILURE, Feedback.FALSE_ALARM, looks[1]),
    ):
        for _ in range(3):
            e = look + rng.normal(0.0, 0.3, size=dim)
            logit = float(rng.normal(1.0 if kind is Feedback.FALSE_ALARM else -1.0, 0.5))
            camera.add(e, logit, kind)
            mirror.add(e, -logit, other)
    moved = 0
    for k in range(40):
        e = looks[k % 2] + rng.normal(0.0, 0.6, size=dim)
        logit = float(rng.normal(0.0, 2.0))
        adjusted = camera.adjust_logit(logit, e)
        assert mirror.adjust_logit(-logit, e) == pytest.approx(-adjusted, abs=1e-5)
        moved += adjusted != logit
    assert moved > 10  # the comparison covers frames the marks act on


def test_default_margin_takes_marked_frames_just_past_the_threshold(tmp_path: Path) -> None:
    camera = CameraAdaptation(tmp_path / "cam.npz", threshold=THRESHOLD)
    assert camera.params.margin == 0.25
    e = _unit(np.random.default_rng(9))
    camera.add(e, 2.0, Feedback.FALSE_ALARM)
    assert camera.adjust_logit(2.0, e) == pytest.approx(-0.25)
    camera.reset()
    camera.add(e, -2.0, Feedback.MISSED_FAILURE)
    assert camera.adjust_logit(-2.0, e) == pytest.approx(0.25)


def test_params_from_metadata_read_the_head() -> None:
    meta = {
        "adaptation": {
            "similarity_floor": 0.5,
            "similarity_full": 0.9,
            "margin": 0.25,
            "max_directions": 4,
            "head_weight": [1.0, 2.0],
            "normal_reference": [0.0, 0.5],
        }
    }
    params = AdaptationParams.from_metadata(meta)
    assert params.max_directions == 4
    assert params.head_weight is not None
    np.testing.assert_allclose(params.head_weight, [1.0, 2.0])
    assert params.failure_reference is None
    assert AdaptationParams.from_metadata({}).head_weight is None
    meta["adaptation"]["failure_reference"] = [1.0, 1.0]
    params = AdaptationParams.from_metadata(meta)
    assert params.failure_reference is not None
    np.testing.assert_allclose(params.failure_reference, [1.0, 1.0])
    meta["adaptation"]["failure_reference"] = [1.0]
    with pytest.raises(ValueError, match="failure_reference"):
        AdaptationParams.from_metadata(meta)
    del meta["adaptation"]["failure_reference"]
    meta["adaptation"]["normal_reference"] = [0.0]
    with pytest.raises(ValueError, match="differ in size"):
        AdaptationParams.from_metadata(meta)
