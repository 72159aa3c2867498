"""Per-camera adaptation: stored marks change later scores, reversibly."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageEnhance
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
    with pytest.raises(ValueError, match="cell_similarity_floor"):
        AdaptationParams(cell_similarity_floor=0.9, cell_similarity_full=0.9)
    with pytest.raises(ValueError, match="cell_agreement_floor"):
        AdaptationParams(cell_agreement_floor=0.95, cell_agreement_full=0.9)


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


def _with_tangle(image: Image.Image) -> Image.Image:
    """The same tangle of waste filament in the upper right, as a fixed camera would see it.

    Drawn here rather than taken from the training script's cluttered camera on purpose:
    the region thresholds were picked on that one, so this test checks another tangle.
    """
    view = image.convert("RGB").resize((448, 448))
    draw = ImageDraw.Draw(view)
    rng = np.random.default_rng(5)
    for strand in range(14):
        x, y = rng.uniform(270, 430), rng.uniform(10, 190)
        heading, points = rng.uniform(0, 2 * math.pi), [(x, y)]
        for _ in range(40):
            heading += rng.normal(0.0, 0.9)
            x = min(max(x + 5 * math.cos(heading), 260.0), 440.0)
            y = min(max(y + 5 * math.sin(heading), 5.0), 200.0)
            points.append((x, y))
        colour = ((235, 235, 230), (250, 140, 40), (240, 220, 60))[strand % 3]
        draw.line(points, fill=colour, width=int(rng.integers(2, 7)), joint="curve")
    return view


def test_marks_clear_waste_filament_in_view_and_keep_the_failures(
    tmp_path: Path, model: FailureModel, normal_frames: list[Path], failure_frames: list[Path]
) -> None:
    """The region correction on the real model: the tangle is forgiven, spaghetti is not."""
    plain = _camera_views(normal_frames)
    normal = [_with_tangle(v) for v in plain]
    failures = [_with_tangle(v) for v in _camera_views(failure_frames)]
    # A sensitive threshold at which the tangle alone trips the model; without it, nothing does.
    detector = Detector(model, tmp_path, threshold=0.3)
    assert not any(detector.detect("plain", v).failure for v in plain)
    unseen = range(10, 20)  # scenes 3 and 4; the marks come from scenes 1 and 2
    before = sum(detector.detect("cam", normal[i]).failure for i in unseen)
    assert before >= 3
    for i in (0, 5):
        detector.mark(detector.detect("cam", normal[i]), Feedback.FALSE_ALARM)
    after = [detector.detect("cam", normal[i]) for i in unseen]
    assert sum(r.failure for r in after) <= 1
    assert any(r.adapted and r.base.failure for r in after)
    assert all(detector.detect("cam", v).failure for v in failures)


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


REGIONS, HIDDEN = 9, 16


# Spaghetti in region 6: strong on feature 0, which the region tests' head calls failure.
SPAGHETTI = np.zeros(HIDDEN)
SPAGHETTI[0], SPAGHETTI[5] = float(REGIONS), 3.0


def _region_params(weight: NDArray[np.float32]) -> AdaptationParams:
    return AdaptationParams(
        similarity_floor=0.9998,
        similarity_full=0.9999,  # the nearest-mark correction stays out of these tests
        cell_similarity_floor=0.75,
        cell_similarity_full=0.9,
        cell_agreement_floor=0.6,
        cell_agreement_full=0.9,
        head_weight=weight,
        head_bias=np.zeros(HIDDEN, dtype=np.float32),
        cell_reference=np.zeros((REGIONS, HIDDEN), dtype=np.float32),
    )


def test_false_alarm_marks_clear_what_sits_in_one_place_but_keep_new_evidence(
    tmp_path: Path,
) -> None:
    """Waste filament in one corner of a fixed camera: cleared there, spaghetti elsewhere kept."""
    rng = np.random.default_rng(7)
    weight = np.zeros(HIDDEN, dtype=np.float32)
    weight[0] = 1.0  # feature 0 is what the head calls failure
    camera = CameraAdaptation(
        tmp_path / "cam.npz", threshold=THRESHOLD, params=_region_params(weight)
    )
    tangle = np.zeros(HIDDEN)
    tangle[0], tangle[3] = float(REGIONS), 3.0  # in region 0, looks like failure

    def frame(failure: bool) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        cells = rng.normal(0.0, 0.3, size=(REGIONS, HIDDEN))
        cells[0] += tangle
        if failure:
            cells[6] += SPAGHETTI
        hidden = np.maximum(cells.mean(axis=0), 0.0)
        logit = float(weight @ hidden) - 0.5  # the tangle alone: about +0.5
        return rng.normal(size=HIDDEN), cells, logit

    for _ in range(3):
        embedding, cells, logit = frame(failure=False)
        assert logit > 0  # flagged at threshold 0.5
        camera.add(embedding, logit, Feedback.FALSE_ALARM, cells)
    assert camera.false_alarms == 3
    for _ in range(20):
        embedding, cells, logit = frame(failure=False)
        assert camera.adjust_logit(logit, embedding, cells) < 0
        embedding, cells, logit = frame(failure=True)
        assert camera.adjust_logit(logit, embedding, cells) > 0
    # Without the frame's cells (a model without that output) only the nearest marks act.
    embedding, cells, logit = frame(failure=False)
    assert camera.adjust_logit(logit, embedding) == logit
    # Marks never raise a score: a region whose replacement would add evidence is ignored.
    cells = np.zeros((REGIONS, HIDDEN))
    cells[0] = -tangle  # the mark's look, negated: cosine -1
    assert camera.adjust_logit(-1.0, rng.normal(size=HIDDEN), cells) == -1.0


@pytest.mark.parametrize("agreement", [True, False])
def test_a_cause_that_only_partly_covers_regions_is_taken_out_where_the_marks_agree(
    tmp_path: Path, agreement: bool
) -> None:
    """A cable crosses regions 1-3 among content that differs from frame to frame.

    No region of a new frame matches a marked one closely, but the marks agree on the
    cable's direction there: taking it out clears the frames, spaghetti elsewhere stays.
    With the agreement correction switched off most frames stay flagged.
    """
    rng = np.random.default_rng(8)
    weight = np.zeros(HIDDEN, dtype=np.float32)
    weight[0] = 1.0
    params = _region_params(weight)
    if not agreement:
        params = dataclasses.replace(params, cell_agreement_floor=0.999, cell_agreement_full=1.0)
    camera = CameraAdaptation(tmp_path / "cam.npz", threshold=THRESHOLD, params=params)
    cable = np.zeros(HIDDEN)
    cable[0], cable[3] = 4.0, 2.0

    def frame(failure: bool) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        cells = rng.normal(0.0, 0.3, size=(REGIONS, HIDDEN))
        cells[1:4] += cable + rng.normal(0.0, 0.55, size=(3, HIDDEN))
        if failure:
            cells[6] += SPAGHETTI
        logit = float(weight @ np.maximum(cells.mean(axis=0), 0.0)) - 0.5
        return rng.normal(size=HIDDEN), cells, logit

    for _ in range(5):
        embedding, cells, logit = frame(failure=False)
        assert logit > 0
        camera.add(embedding, logit, Feedback.FALSE_ALARM, cells)
    flagged = kept = 0
    for _ in range(50):
        embedding, cells, logit = frame(failure=False)
        flagged += camera.adjust_logit(logit, embedding, cells) > 0
        embedding, cells, logit = frame(failure=True)
        kept += camera.adjust_logit(logit, embedding, cells) > 0
    assert kept == 50
    if agreement:
        assert flagged <= 10
    else:
        assert flagged >= 25


def test_region_marks_survive_a_restart_and_reset(tmp_path: Path) -> None:
    weight = np.ones(HIDDEN, dtype=np.float32)
    params = _region_params(weight)
    cells = np.zeros((REGIONS, HIDDEN))
    cells[2, :4] = 9.0
    embedding = np.random.default_rng(3).normal(size=HIDDEN)
    CameraAdaptation(tmp_path / "cam.npz", threshold=THRESHOLD, params=params).add(
        embedding, 1.0, Feedback.FALSE_ALARM, cells
    )
    other = np.random.default_rng(4).normal(size=HIDDEN)
    reloaded = CameraAdaptation(tmp_path / "cam.npz", threshold=THRESHOLD, params=params)
    assert reloaded.adjust_logit(3.0, other, cells) < 3.0
    reloaded.reset()
    assert reloaded.adjust_logit(3.0, other, cells) == 3.0


def test_cells_of_the_wrong_size_are_refused(tmp_path: Path) -> None:
    camera = CameraAdaptation(
        tmp_path / "cam.npz",
        threshold=THRESHOLD,
        params=_region_params(np.ones(HIDDEN, np.float32)),
    )
    embedding = np.ones(HIDDEN)
    with pytest.raises(ValueError, match="cells have"):
        camera.add(embedding, 1.0, Feedback.FALSE_ALARM, np.ones((REGIONS, HIDDEN + 1)))
    with pytest.raises(ValueError, match="finite"):
        camera.add(embedding, 1.0, Feedback.FALSE_ALARM, np.full((REGIONS, HIDDEN), np.nan))
    assert camera.false_alarms == 0
    camera.add(embedding, 1.0, Feedback.FALSE_ALARM, np.ones((REGIONS, HIDDEN)))
    with pytest.raises(ValueError, match="cells have"):
        camera.adjust_logit(1.0, embedding, np.ones(3))


def test_a_store_of_the_previous_version_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "cam.npz"
    e = _unit(np.random.default_rng(12))
    np.savez(
        path,
        version=np.int32(1),
        embeddings=e[None].astype(np.float32),
        labels=np.zeros(1, dtype=np.int8),
        logits=np.full(1, 2.0, dtype=np.float32),
    )
    camera = CameraAdaptation(path, threshold=THRESHOLD, params=PARAMS)
    assert camera.false_alarms == 1
    assert camera.adjust_logit(3.0, e) == pytest.approx(-1.0)
    camera.add(e, 2.0, Feedback.FALSE_ALARM)
    with np.load(path) as data:
        assert int(data["version"]) == 2


def test_missed_failure_subspace_raises_the_cameras_hidden_failures(tmp_path: Path) -> None:
    """A dark camera hides its failures: marks of them raise the camera's look."""
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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_marks_of_either_kind_act_in_mirror_image(tmp_path: Path, seed: int) -> None:
    """Swap the marks' kinds and negate the logits: every adjusted logit negates."""
    rng = np.random.default_rng(seed)
    dim = 8
    params = AdaptationParams(similarity_floor=0.3, similarity_full=0.7, margin=0.25)
    camera = CameraAdaptation(tmp_path / "a.npz", threshold=0.5, params=params)
    mirror = CameraAdaptation(tmp_path / "b.npz", threshold=0.5, params=params)
    looks = [rng.normal(size=dim) for _ in range(2)]
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
    meta: dict[str, Any] = {
        "adaptation": {
            "similarity_floor": 0.5,
            "similarity_full": 0.9,
            "margin": 0.25,
            "max_directions": 4,
            "cell_similarity_floor": 0.7,
            "cell_similarity_full": 0.95,
            "cell_agreement_floor": 0.5,
            "cell_agreement_full": 0.8,
            "head_weight": [1.0, 2.0],
            "head_bias": [0.0, 0.5],
            "cell_reference": [[0.0, 0.5], [1.0, 1.0], [2.0, 0.0]],
        }
    }
    params = AdaptationParams.from_metadata(meta)
    assert params.max_directions == 4
    assert (params.cell_similarity_floor, params.cell_similarity_full) == (0.7, 0.95)
    assert (params.cell_agreement_floor, params.cell_agreement_full) == (0.5, 0.8)
    assert params.head_weight is not None
    np.testing.assert_allclose(params.head_weight, [1.0, 2.0])
    assert params.regions == 3
    assert params.failure_reference is None
    assert AdaptationParams.from_metadata({}).head_weight is None
    assert AdaptationParams.from_metadata({}).regions == 0
    meta["adaptation"]["failure_reference"] = [1.0, 1.0]
    params = AdaptationParams.from_metadata(meta)
    assert params.failure_reference is not None
    np.testing.assert_allclose(params.failure_reference, [1.0, 1.0])
    meta["adaptation"]["failure_reference"] = [1.0]
    with pytest.raises(ValueError, match="failure_reference"):
        AdaptationParams.from_metadata(meta)
    del meta["adaptation"]["failure_reference"]
    meta["adaptation"]["cell_reference"] = [[0.0], [1.0]]
    with pytest.raises(ValueError, match="of their size"):
        AdaptationParams.from_metadata(meta)
    meta["adaptation"]["cell_reference"] = [[0.0, 1.0], [1.0]]
    with pytest.raises(ValueError, match="equal-length"):
        AdaptationParams.from_metadata(meta)
    del meta["adaptation"]["cell_reference"]
    with pytest.raises(ValueError, match="come together"):
        AdaptationParams.from_metadata(meta)
    meta["adaptation"]["head_bias"] = ["x"]
    with pytest.raises(ValueError, match="head_bias"):
        AdaptationParams.from_metadata(meta)
