"""From per-frame failure scores to "warn" and "pause": the add-on's decision, with no I/O.

The shape follows Obico's first-generation logic (an exponentially weighted
score judged against the camera's own reference, a warm-up at the start of each
print, a warning tier below the failure tier, at most one pause per print), with
three changes that make it hold on cameras Obico's constants were not tuned for:

* **Log-odds, not probabilities.** Scores are turned into clipped logits before
  anything is averaged, so a camera whose frames sit at 0.95 all the time still
  has room above its reference when a real failure appears (0.95 -> 0.999 is
  +4 logits, not +0.05).
* **References learn only from quiet frames.** The per-print and lifetime
  references are means of the frames judged ``ok``; a failure that builds up
  slowly therefore cannot raise the bar it is measured against (Obico's
  per-print mean does, which is why a failure starting ten minutes into a print
  may never pause there).
* **Two conditions for each tier.** A tier needs the smoothed score above an
  absolute level (the model's own threshold for failure, a margin below it for
  a warning) *and* a rise above the higher of the camera's lifetime and this
  print's reference, larger than the camera's own frame-to-frame noise.

Episodes: a warning or failure starts an episode that ends when the smoothed
score is back to ``ok``. Each episode notifies at most once and pauses at most
once; a print is paused again only after the user resumed it and a new episode
began (it failed again). Warnings are spaced by ``cooldown_s``.

Everything here is a pure function of the scores and the times given, so the
add-on, ``scripts/detect --sequence`` and the tests run the same code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
import enum
import math
from typing import Any

LOGIT_CLIP = 16.0


class Level(enum.StrEnum):
    """How a frame is judged after smoothing."""

    OK = "ok"
    WARNING = "warning"
    FAILURE = "failure"


class Action(enum.StrEnum):
    """What the add-on should do after a frame (None: nothing)."""

    NOTIFY = "notify"
    PAUSE = "pause"


class OnFailure(enum.StrEnum):
    """The user's choice of what a failure does."""

    NOTIFY = "notify"
    PAUSE = "pause"
    PAUSE_AND_NOTIFY = "pause_and_notify"


def clip_logit(value: float) -> float:
    """Log-odds limited to +-LOGIT_CLIP, so one extreme frame cannot dominate the mean."""
    return min(max(value, -LOGIT_CLIP), LOGIT_CLIP)


def to_logit(score: float) -> float:
    """A probability as clipped log-odds."""
    p = min(max(score, 1e-9), 1.0 - 1e-9)
    return clip_logit(math.log(p / (1.0 - p)))


def to_score(value: float) -> float:
    """Clipped log-odds back to a probability."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    z = math.exp(value)
    return z / (1.0 + z)


@dataclass(frozen=True, slots=True)
class DecisionSettings:
    """Constants of the decision; the defaults assume one frame every 10 s.

    ``threshold`` is the model's failure threshold on a single frame's score;
    ``sensitivity`` (0.5-2) scales the rise a tier needs and moves its level.
    """

    threshold: float = 0.9
    sensitivity: float = 1.0
    warmup_frames: int = 30
    ewm_span: int = 12
    lifetime_span: int = 1440
    warning_margin: float = 1.5
    warning_rise: float = 1.5
    failure_rise: float = 3.0
    noise_factor: float = 5.0
    cooldown_s: float = 90.0
    on_failure: OnFailure = OnFailure.PAUSE_AND_NOTIFY

    def __post_init__(self) -> None:
        """Reject settings that would make the decision meaningless."""
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        if not 0.25 <= self.sensitivity <= 4.0:
            raise ValueError("sensitivity must be between 0.25 and 4")
        if self.warmup_frames < 0 or self.ewm_span < 1 or self.lifetime_span < 1:
            raise ValueError("frame counts must be positive")

    @property
    def alpha(self) -> float:
        """Weight of a new frame in the smoothed score."""
        return 2.0 / (self.ewm_span + 1.0)

    @property
    def failure_level(self) -> float:
        """Smoothed log-odds a failure needs, moved by the sensitivity."""
        return to_logit(self.threshold) - 2.0 * math.log2(self.sensitivity)

    @property
    def warning_level(self) -> float:
        """Smoothed log-odds a warning needs."""
        return self.failure_level - self.warning_margin

    def with_sensitivity(self, sensitivity: float) -> DecisionSettings:
        """The same settings for another printer's sensitivity."""
        return replace(self, sensitivity=sensitivity)


@dataclass(slots=True)
class CameraReference:
    """What one camera's quiet frames look like, over all its prints (persisted)."""

    frames: int = 0
    level: float = 0.0
    variance: float = 0.0

    def add(self, value: float, span: int) -> None:
        """Fold a quiet frame in: running mean at first, exponential after ``span`` frames."""
        self.frames += 1
        weight = 1.0 / min(self.frames, span)
        delta = value - self.level
        self.level += weight * delta
        self.variance = (1.0 - weight) * (self.variance + weight * delta * delta)

    @property
    def spread(self) -> float:
        """Standard deviation of the camera's quiet frames (log-odds)."""
        return math.sqrt(max(self.variance, 0.0))

    def as_dict(self) -> dict[str, float | int]:
        """For storage."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> CameraReference:
        """From storage; anything malformed starts afresh."""
        if not isinstance(raw, dict):
            return cls()
        try:
            frames = int(raw.get("frames", 0))
            level = float(raw.get("level", 0.0))
            variance = float(raw.get("variance", 0.0))
        except (TypeError, ValueError):
            return cls()
        if frames < 0 or not math.isfinite(level) or not math.isfinite(variance) or variance < 0:
            return cls()
        return cls(frames=frames, level=level, variance=variance)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision after one frame."""

    frame: int
    score: float
    smoothed: float
    reference: float
    level: Level
    action: Action | None
    warming_up: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "frame": self.frame,
            "score": round(self.score, 6),
            "smoothed": round(self.smoothed, 6),
            "reference": round(self.reference, 6),
            "level": self.level.value,
            "action": None if self.action is None else self.action.value,
            "warming_up": self.warming_up,
        }


@dataclass(slots=True)
class _Print:
    frames: int = 0
    ewm: float | None = None
    quiet_frames: int = 0
    quiet_level: float = 0.0
    in_episode: bool = False
    episode_paused: bool = False
    paused: bool = False  # a pause was asked for and the print has not been resumed since
    last_notify: float | None = None
    level: Level = Level.OK


@dataclass(slots=True)
class Decision:
    """The running decision of one camera: call ``start_print`` then ``update`` per frame."""

    settings: DecisionSettings
    lifetime: CameraReference = field(default_factory=CameraReference)
    _print: _Print = field(default_factory=_Print)

    def start_print(self) -> None:
        """A new print begins: warm-up and per-print reference start over."""
        self._print = _Print()

    def resumed(self) -> None:
        """The user resumed the print: a new failure episode may pause it again."""
        self._print.paused = False

    def false_alarm(self) -> None:
        """The user says what is on screen now is fine: it becomes this print's reference."""
        state = self._print
        if state.ewm is not None:
            level = state.ewm
            if state.quiet_frames:
                level = max(state.quiet_level, level)
            state.quiet_level = level
            state.quiet_frames = max(state.quiet_frames, 1)
        state.in_episode = False
        state.episode_paused = False
        state.level = Level.OK

    @property
    def level(self) -> Level:
        """The level after the last frame."""
        return self._print.level

    @property
    def frames(self) -> int:
        """Frames judged in this print."""
        return self._print.frames

    def reference(self) -> float | None:
        """The log-odds a rise is measured from: the higher of the camera's and the print's."""
        candidates = []
        if self.lifetime.frames >= max(self.settings.warmup_frames, 1):
            candidates.append(self.lifetime.level)
        if self._print.quiet_frames:
            candidates.append(self._print.quiet_level)
        return max(candidates) if candidates else None

    def _needed_rise(self, base: float) -> float:
        settings = self.settings
        noise = self.lifetime.spread * math.sqrt(settings.alpha / (2.0 - settings.alpha))
        return max(base, settings.noise_factor * noise) / settings.sensitivity

    def _judge(self, smoothed: float, reference: float) -> Level:
        settings = self.settings
        rise = smoothed - reference
        if smoothed >= settings.failure_level and rise >= self._needed_rise(settings.failure_rise):
            return Level.FAILURE
        if smoothed >= settings.warning_level and rise >= self._needed_rise(settings.warning_rise):
            return Level.WARNING
        return Level.OK

    def _learn(self, value: float) -> None:
        state = self._print
        state.quiet_frames += 1
        state.quiet_level += (value - state.quiet_level) / state.quiet_frames
        self.lifetime.add(value, self.settings.lifetime_span)

    def update(self, score: float, now: float, *, logit: float | None = None) -> Verdict:
        """Judge one frame taken at ``now`` (seconds, any monotonic origin).

        ``score`` is the frame's failure probability; ``logit``, where the model gives
        it, is used instead of the score's log-odds (a probability rounds to 1.0 long
        before the model's evidence stops growing).
        """
        if not math.isfinite(score) or (logit is not None and not math.isfinite(logit)):
            raise ValueError("score and logit must be finite numbers")
        settings = self.settings
        state = self._print
        value = to_logit(score) if logit is None else clip_logit(logit)
        state.frames += 1
        if state.ewm is None:
            start = self.reference()
            state.ewm = value if start is None else start + settings.alpha * (value - start)
        else:
            state.ewm += settings.alpha * (value - state.ewm)
        warming_up = state.frames <= settings.warmup_frames
        reference = self.reference()
        if warming_up or reference is None:
            self._learn(value)
            state.level = Level.OK
            return self._verdict(
                score, value if reference is None else reference, None, warming_up=True
            )
        level = self._judge(state.ewm, reference)
        state.level = level
        action: Action | None = None
        if level is Level.OK:
            state.in_episode = False
            state.episode_paused = False
            # Winsorised: the first frames of a failure that is still building up
            # must not lift the reference it is measured against.
            self._learn(min(value, reference + settings.warning_rise))
        elif level is Level.FAILURE and not state.episode_paused:
            # The episode's one failure action. A print paused earlier and not resumed
            # since (the pause did not take, or frames arrive anyway) is not paused twice.
            state.in_episode = True
            state.episode_paused = True
            if settings.on_failure is OnFailure.NOTIFY:
                action = Action.NOTIFY
            elif not state.paused:
                action = Action.PAUSE
                state.paused = True
            state.last_notify = now
        elif not state.in_episode and (
            state.last_notify is None or now - state.last_notify >= settings.cooldown_s
        ):
            state.in_episode = True
            state.last_notify = now
            action = Action.NOTIFY
        return self._verdict(score, reference, action, warming_up=False)

    def _verdict(
        self, score: float, reference: float, action: Action | None, *, warming_up: bool
    ) -> Verdict:
        state = self._print
        assert state.ewm is not None
        return Verdict(
            frame=state.frames,
            score=score,
            smoothed=to_score(state.ewm),
            reference=to_score(reference),
            level=state.level,
            action=action,
            warming_up=warming_up,
        )
