"""The model card's verdict on the adaptation target, from an experiment's numbers."""

from __future__ import annotations

from typing import Any

from ml_addon.training.card import verdict


def experiment(**numbers: float) -> dict[str, Any]:
    """A simulated camera's experiment: recall after marking 45 %, clean camera 47 %."""
    e: dict[str, Any] = {
        "recall_after_mean": 0.45,
        "recall_clean_camera_mean": 0.47,
        "recall_clean_camera_at_target_mean": 0.60,
        "recall_camera_refit_mean": 0.30,
        "recall_camera_refit_at_target_mean": 0.58,
    }
    e.update(numbers)
    return e


def test_met_needs_most_false_alarms_removed_and_the_clean_cameras_recall() -> None:
    assert verdict(experiment(), removed=0.9, before_recall=0.8).endswith(" met.")
    assert "**not met**" in verdict(experiment(), removed=0.6, before_recall=0.8)
    assert "**not met**" in verdict(
        experiment(recall_after_mean=0.41), removed=0.9, before_recall=0.8
    )


def test_without_a_clean_camera_the_yardstick_is_recall_before_marking() -> None:
    e = experiment(recall_after_mean=0.9)
    del e["recall_clean_camera_mean"], e["recall_clean_camera_at_target_mean"]
    assert verdict(e, removed=0.8, before_recall=0.93).endswith(" met.")
    assert "**not met**" in verdict(e, removed=0.8, before_recall=0.96)


def test_a_miss_says_whether_hundreds_of_labels_would_meet_the_target() -> None:
    reachable = verdict(experiment(recall_after_mean=0.2), removed=0.9, before_recall=0.8)
    assert "hundreds of this camera's labels would meet it" in reachable
    assert "below the camera refit's" in reachable

    out_of_reach = verdict(
        experiment(recall_camera_refit_at_target_mean=0.40), removed=0.3, before_recall=0.8
    )
    assert "nor by a head refit" in out_of_reach


def test_five_marks_can_match_the_refit_at_the_same_false_alarms() -> None:
    text = verdict(experiment(recall_after_mean=0.35), removed=0.95, before_recall=0.8)
    assert "at or above the camera refit's" in text
