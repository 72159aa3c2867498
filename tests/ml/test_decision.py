"""The add-on's decision on synthetic score sequences (pure: no model, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
import itertools
import random

import pytest

from ml_addon.printfarm_detect.decision import (
    Action,
    CameraReference,
    Decision,
    DecisionSettings,
    Level,
    OnFailure,
    to_logit,
    to_score,
)

INTERVAL = 10.0
SETTINGS = DecisionSettings(threshold=0.9714)


type Results = list[tuple[Level, Action | None]]


def run(decision: Decision, scores: Iterable[float], start: float = 0.0) -> Results:
    out = []
    for i, score in enumerate(scores):
        verdict = decision.update(score, start + i * INTERVAL)
        out.append((verdict.level, verdict.action))
    return out


def actions(results: Results) -> list[tuple[int, Action]]:
    return [(i, a) for i, (_l, a) in enumerate(results) if a is not None]


def normal(rng: random.Random, n: int, centre: float = -3.0, spread: float = 1.0) -> list[float]:
    return [to_score(rng.gauss(centre, spread)) for _ in range(n)]


def test_sustained_failure_pauses_within_a_bounded_number_of_frames() -> None:
    rng = random.Random(1)
    decision = Decision(SETTINGS)
    decision.start_print()
    results = run(decision, normal(rng, 60) + [0.999] * 30)
    found = actions(results)
    pause = [i for i, a in found if a is Action.PAUSE]
    assert len(pause) == 1
    assert 60 < pause[0] <= 60 + 8  # within 8 frames of the first failure frame
    warn = [i for i, a in found if a is Action.NOTIFY]
    assert warn
    assert warn[0] < pause[0]  # the warning tier comes first
    assert results[-1][0] is Level.FAILURE


@pytest.mark.parametrize("failure_score", [0.99, 0.9999, 1.0])
def test_failure_late_in_a_long_print_still_pauses(failure_score: float) -> None:
    rng = random.Random(2)
    decision = Decision(SETTINGS)
    decision.start_print()
    results = run(decision, normal(rng, 900) + [failure_score] * 40)
    assert [a for _i, a in actions(results)].count(Action.PAUSE) == 1


def test_slowly_building_failure_does_not_raise_its_own_reference() -> None:
    decision = Decision(SETTINGS)
    decision.start_print()
    ramp = [to_score(-3 + 0.25 * i) for i in range(60)]  # -3 -> +12 logits over 10 minutes
    results = run(decision, [to_score(-3)] * 40 + ramp + [to_score(12)] * 20)
    assert Action.PAUSE in [a for _i, a in actions(results)]


def test_noise_never_pauses() -> None:
    rng = random.Random(3)
    scores = normal(rng, 2000, spread=1.5)
    # isolated spikes: one frame in 50 looks like spaghetti
    for i in range(40, 2000, 50):
        scores[i] = 0.9999
    decision = Decision(SETTINGS)
    decision.start_print()
    results = run(decision, scores)
    assert Action.PAUSE not in [a for _i, a in actions(results)]
    assert all(level is not Level.FAILURE for level, _a in results)


def test_camera_whose_scores_sit_high_never_pauses_but_still_catches_a_real_failure() -> None:
    rng = random.Random(4)
    # every frame of this camera scores like a failure to a per-frame threshold
    high = [to_score(rng.gauss(8.0, 1.0)) for _ in range(300)]
    decision = Decision(SETTINGS)
    for _print in range(3):
        decision.start_print()
        results = run(decision, high)
        assert actions(results) == []
    # the camera's reference is what it always shows; a real failure rises above it
    decision.start_print()
    logits = [rng.gauss(8.0, 1.0) for _ in range(60)] + [15.0] * 20
    paused = False
    for i, value in enumerate(logits):
        verdict = decision.update(to_score(value), i * INTERVAL, logit=value)
        paused |= verdict.action is Action.PAUSE
    assert paused


def test_long_normal_print_never_pauses() -> None:
    rng = random.Random(5)
    decision = Decision(SETTINGS)
    decision.start_print()
    # 20 hours at 10 s, the scene slowly brightening and darkening (day light)
    scores = [to_score(rng.gauss(-3 + 1.5 * ((i % 2000) / 2000), 1.0)) for i in range(7200)]
    assert actions(run(decision, scores)) == []


def test_warm_up_holds_back_even_a_clear_failure() -> None:
    decision = Decision(SETTINGS)
    decision.start_print()
    results = run(decision, [1.0] * SETTINGS.warmup_frames)
    assert actions(results) == []
    assert all(level is Level.OK for level, _a in results)


def test_cooldown_spaces_warnings() -> None:
    settings = DecisionSettings(threshold=0.9714, cooldown_s=300.0)
    decision = Decision(settings)
    decision.start_print()
    warning = to_score(settings.warning_level + 0.3)  # warning tier, not failure
    quiet = to_score(-3)
    scores = [quiet] * 40 + ([warning] * 30 + [quiet] * 20) * 4
    found = actions(run(decision, scores))
    assert all(a is Action.NOTIFY for _i, a in found)
    times = [i * INTERVAL for i, _a in found]
    assert len(times) >= 2
    assert all(b - a >= 300.0 for a, b in itertools.pairwise(times))


def test_once_per_print_until_resumed_and_failing_again() -> None:
    decision = Decision(SETTINGS)
    decision.start_print()
    quiet, bad = to_score(-3), 1.0
    first = run(decision, [quiet] * 40 + [bad] * 20)
    assert [a for _i, a in actions(first)].count(Action.PAUSE) == 1
    # not resumed: a new episode (clean, then bad again) does not pause a second time
    second = run(decision, [quiet] * 30 + [bad] * 20, start=1000)
    assert Action.PAUSE not in [a for _i, a in actions(second)]
    # the user resumes with the failure still in view: no second pause for the same episode
    decision.resumed()
    third = run(decision, [bad] * 20, start=2000)
    assert Action.PAUSE not in [a for _i, a in actions(third)]
    # it clears, then fails again: paused again
    fourth = run(decision, [quiet] * 30 + [bad] * 20, start=3000)
    assert [a for _i, a in actions(fourth)].count(Action.PAUSE) == 1
    # a new print starts armed
    decision.start_print()
    fifth = run(decision, [quiet] * 40 + [bad] * 20, start=5000)
    assert [a for _i, a in actions(fifth)].count(Action.PAUSE) == 1


def test_false_alarm_makes_the_current_view_this_prints_reference() -> None:
    decision = Decision(SETTINGS)
    decision.start_print()
    run(decision, [to_score(-3)] * 40)
    first = run(decision, [to_score(6)] * 20)
    assert Action.PAUSE in [a for _i, a in actions(first)]
    decision.resumed()
    decision.false_alarm()
    after = run(decision, [to_score(6)] * 100, start=1000)
    assert actions(after) == []
    assert after[-1][0] is Level.OK


def test_notify_only_never_asks_for_a_pause() -> None:
    decision = Decision(DecisionSettings(threshold=0.9714, on_failure=OnFailure.NOTIFY))
    decision.start_print()
    found = actions(run(decision, [to_score(-3)] * 40 + [1.0] * 20))
    assert found
    assert all(a is Action.NOTIFY for _i, a in found)


def test_sensitivity_orders_how_soon_a_failure_pauses() -> None:
    def first_pause(sensitivity: float, bad_logit: float) -> int | None:
        decision = Decision(SETTINGS.with_sensitivity(sensitivity))
        decision.start_print()
        for i, value in enumerate([-3.0] * 40 + [bad_logit] * 40):
            if decision.update(to_score(value), i * INTERVAL, logit=value).action is Action.PAUSE:
                return i
        return None

    low, default, high = (first_pause(s, 6.0) for s in (0.5, 1.0, 2.0))
    assert high is not None
    assert default is not None
    assert high <= default
    assert low is None or low >= default


def test_lifetime_reference_round_trips_and_rejects_garbage() -> None:
    ref = CameraReference()
    for value in (1.0, 2.0, 3.0):
        ref.add(value, span=100)
    assert CameraReference.from_dict(ref.as_dict()) == ref
    assert ref.level == pytest.approx(2.0)
    assert CameraReference.from_dict({"frames": "x"}) == CameraReference()
    assert CameraReference.from_dict({"frames": 3, "level": float("nan")}) == CameraReference()
    assert CameraReference.from_dict(None) == CameraReference()


def test_bad_scores_and_settings_are_refused() -> None:
    decision = Decision(SETTINGS)
    decision.start_print()
    with pytest.raises(ValueError, match="finite"):
        decision.update(float("nan"), 0.0)
    with pytest.raises(ValueError, match="threshold"):
        DecisionSettings(threshold=1.5)
    with pytest.raises(ValueError, match="sensitivity"):
        DecisionSettings(sensitivity=10)
    assert to_logit(1.0) == pytest.approx(16.0)
