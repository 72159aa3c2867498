"""Per-camera correction of the failure score from user feedback.

The user marks frames as "false alarm" or "missed failure". Each mark stores the
frame's embedding (centred pooled features, from the model) and base logit under
the data directory; ``reset`` deletes them. Two corrections follow, both numpy:

1. Camera subspace (needs the model's linear head from the metadata). A
   camera's false alarms differ from the training set's mean normal frame by
   what is special about that camera: lighting, colour, bed, clutter. The marks'
   deviations from that reference span a small subspace; the part of a new
   frame's deviation that lies in it, no further than the marks themselves went,
   is taken out where it pushes the logit towards "failure". What is new in a
   frame, such as spaghetti, lies mostly outside that subspace and keeps its
   score. Missed-failure marks act the same way in mirror image: their deviations
   from the training set's mean failure frame (what makes this camera's failures
   look unlike failures: darkness, distance) are taken out where they push the
   logit towards "no failure". Each correction is capped at what its own marks
   needed to reach ``margin`` past the threshold.
2. Nearest marks (both kinds). A frame whose embedding is close (cosine) to a
   marked one is pulled to the marked side of the threshold: fully at similarity
   >= ``similarity_full``, partly in between, not at all below ``similarity_floor``.

The parameters travel in the model metadata (``adaptation`` section), because
they depend on the embedding the model produces.
"""

from __future__ import annotations

from dataclasses import dataclass
import enum
import hashlib
import math
from pathlib import Path
import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

STORE_VERSION = 1
MAX_MARKS = 512


class Feedback(enum.Enum):
    """What the user said about a frame."""

    FALSE_ALARM = "false_alarm"
    MISSED_FAILURE = "missed_failure"


_LABEL = {Feedback.FALSE_ALARM: 0, Feedback.MISSED_FAILURE: 1}  # as stored


def _vector(raw: object, name: str) -> NDArray[np.float32] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"adaptation.{name} must be a list of numbers")
    vector = np.asarray(raw, dtype=np.float32)
    if vector.ndim != 1 or not np.all(np.isfinite(vector)):
        raise ValueError(f"adaptation.{name} must be a flat list of finite numbers")
    return vector


@dataclass(frozen=True, eq=False)
class AdaptationParams:
    """How marks act on later frames.

    ``head_weight`` and ``normal_reference`` (the model's linear head and the mean
    embedding of the training set's normal frames) enable the subspace correction
    of false alarms, ``failure_reference`` (the mean embedding of its failure
    frames) that of missed failures; without them only the nearest-mark
    correction applies. ``margin`` (logits) is how far past the threshold a
    correction takes the marked frames.
    """

    similarity_floor: float = 0.6
    similarity_full: float = 0.8
    margin: float = 0.25
    max_directions: int = 16
    head_weight: NDArray[np.float32] | None = None
    normal_reference: NDArray[np.float32] | None = None
    failure_reference: NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        if not -1.0 <= self.similarity_floor < self.similarity_full <= 1.0:
            raise ValueError("need -1 <= similarity_floor < similarity_full <= 1")
        if self.margin < 0:
            raise ValueError("margin must be >= 0")
        if self.max_directions < 1:
            raise ValueError("max_directions must be >= 1")
        if (self.head_weight is None) != (self.normal_reference is None):
            raise ValueError("head_weight and normal_reference come together")
        if (
            self.head_weight is not None
            and self.normal_reference is not None
            and self.head_weight.shape != self.normal_reference.shape
        ):
            raise ValueError("head_weight and normal_reference differ in size")
        if self.failure_reference is not None and (
            self.head_weight is None or self.failure_reference.shape != self.head_weight.shape
        ):
            raise ValueError("failure_reference needs a head_weight of the same size")

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> AdaptationParams:
        """Read the ``adaptation`` section of the model metadata (defaults if absent)."""
        raw = meta.get("adaptation")
        if not isinstance(raw, dict):
            return cls()
        default = cls()
        return cls(
            similarity_floor=float(raw.get("similarity_floor", default.similarity_floor)),
            similarity_full=float(raw.get("similarity_full", default.similarity_full)),
            margin=float(raw.get("margin", default.margin)),
            max_directions=int(raw.get("max_directions", default.max_directions)),
            head_weight=_vector(raw.get("head_weight"), "head_weight"),
            normal_reference=_vector(raw.get("normal_reference"), "normal_reference"),
            failure_reference=_vector(raw.get("failure_reference"), "failure_reference"),
        )


def _normalise(vector: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    flat = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(flat))
    if not math.isfinite(norm) or norm == 0.0:
        raise ValueError("embedding must be a finite, non-zero vector")
    return flat / np.float32(norm)


@dataclass(frozen=True)
class _Subspace:
    """Orthonormal directions spanned by marks' deviations, with the marks' extent."""

    basis: NDArray[np.float32]  # D x k
    low: NDArray[np.float32]  # k
    high: NDArray[np.float32]  # k

    @classmethod
    def fit(cls, deviations: NDArray[np.float32], max_directions: int) -> _Subspace:
        u, s, _ = np.linalg.svd(deviations.T.astype(np.float64), full_matrices=False)
        keep = s > 1e-6 * (s[0] if s.size else 1.0)
        basis = u[:, keep][:, :max_directions].astype(np.float32)
        coords = basis.T @ deviations.T  # k x marks
        low = np.minimum(coords.min(axis=1), 0.0).astype(np.float32)
        high = np.maximum(coords.max(axis=1), 0.0).astype(np.float32)
        return cls(basis, low, high)

    def explained(self, deviation: NDArray[np.float32]) -> NDArray[np.float32]:
        """The part of ``deviation`` in the subspace, clipped to the marks' extent."""
        coords = np.clip(self.basis.T @ deviation, self.low, self.high)
        removed: NDArray[np.float32] = (self.basis @ coords).astype(np.float32)
        return removed


def camera_file_name(camera_id: str) -> str:
    """A file name for a camera id that is safe on any filesystem and unique."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", camera_id).strip("._")[:48] or "camera"
    digest = hashlib.sha256(camera_id.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}.npz"


class CameraAdaptation:
    """The feedback of one camera and the score correction derived from it."""

    def __init__(
        self,
        path: Path,
        *,
        threshold: float,
        params: AdaptationParams | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be a probability in (0, 1)")
        self.path = path
        self.params = params or AdaptationParams()
        self._threshold_logit = math.log(threshold / (1.0 - threshold))
        self._embeddings: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._labels: NDArray[np.int8] = np.zeros(0, dtype=np.int8)
        self._logits: NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._subspaces: dict[Feedback, _Subspace | None] = {}
        if path.exists():
            self._load()

    # -- storage -------------------------------------------------------------
    def _load(self) -> None:
        with np.load(self.path, allow_pickle=False) as data:
            if int(data["version"]) != STORE_VERSION:
                raise ValueError(f"{self.path}: unsupported adaptation store version")
            self._embeddings = np.asarray(data["embeddings"], dtype=np.float32)
            self._labels = np.asarray(data["labels"], dtype=np.int8)
            self._logits = np.asarray(data["logits"], dtype=np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(
            tmp,
            version=np.int32(STORE_VERSION),
            embeddings=self._embeddings,
            labels=self._labels,
            logits=self._logits,
        )
        tmp.replace(self.path)

    # -- feedback ------------------------------------------------------------
    @property
    def false_alarms(self) -> int:
        """How many frames were marked as false alarms."""
        return int(np.count_nonzero(self._labels == 0))

    @property
    def missed_failures(self) -> int:
        """How many frames were marked as missed failures."""
        return int(np.count_nonzero(self._labels == 1))

    def add(
        self, embedding: NDArray[np.floating[Any]], base_logit: float, feedback: Feedback
    ) -> None:
        """Record a mark and persist it; it applies from the next frame on."""
        _normalise(embedding)  # validates
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if self._embeddings.size and self._embeddings.shape[1] != vector.size:
            raise ValueError("embedding size differs from the stored marks (model changed?)")
        label = np.int8(_LABEL[feedback])
        self._embeddings = np.vstack([self._embeddings.reshape(-1, vector.size), vector])
        self._labels = np.append(self._labels, label).astype(np.int8)
        self._logits = np.append(self._logits, np.float32(base_logit)).astype(np.float32)
        if self._labels.size > MAX_MARKS:  # keep the most recent marks
            self._embeddings = self._embeddings[-MAX_MARKS:]
            self._labels = self._labels[-MAX_MARKS:]
            self._logits = self._logits[-MAX_MARKS:]
        self._subspaces.clear()
        self._save()

    def reset(self) -> None:
        """Forget every mark of this camera (back to the base model)."""
        self._embeddings = np.zeros((0, 0), dtype=np.float32)
        self._labels = np.zeros(0, dtype=np.int8)
        self._logits = np.zeros(0, dtype=np.float32)
        self._subspaces.clear()
        self.path.unlink(missing_ok=True)

    # -- correction ----------------------------------------------------------
    def _reference(self, kind: Feedback) -> NDArray[np.float32] | None:
        p = self.params
        return p.normal_reference if kind is Feedback.FALSE_ALARM else p.failure_reference

    def _camera_subspace(self, kind: Feedback) -> _Subspace | None:
        p = self.params
        reference = self._reference(kind)
        if p.head_weight is None or reference is None:
            return None
        if kind not in self._subspaces:
            marks = self._embeddings[self._labels == _LABEL[kind]]
            self._subspaces[kind] = (
                None
                if marks.size == 0 or marks.shape[1] != p.head_weight.size
                else _Subspace.fit(marks[-4 * p.max_directions :] - reference, p.max_directions)
            )
        return self._subspaces[kind]

    def _subspace_shift(self, kind: Feedback, embedding: NDArray[np.float32]) -> float:
        """How far the marks of ``kind`` move this frame's logit (<= 0 for false alarms)."""
        subspace = self._camera_subspace(kind)
        reference = self._reference(kind)
        if subspace is None or reference is None or self.params.head_weight is None:
            return 0.0
        removed = subspace.explained(embedding - reference)
        contribution = float(self.params.head_weight @ removed)
        logits = self._logits[self._labels == _LABEL[kind]]
        t, m = self._threshold_logit, self.params.margin
        # Never more than the marks themselves needed to get margin past the threshold:
        # a frame far beyond every mark keeps part of its lead.
        if kind is Feedback.FALSE_ALARM:
            cap = max(0.0, float(logits.max()) - (t - m))
            return -min(cap, max(0.0, contribution))
        cap = max(0.0, (t + m) - float(logits.min()))
        return min(cap, max(0.0, -contribution))

    def _weights(self, embedding: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
        marks = self._embeddings
        norms = np.linalg.norm(marks, axis=1)
        similarity = (marks @ _normalise(embedding)) / np.maximum(norms, 1e-12)
        p = self.params
        ramp = (similarity - p.similarity_floor) / (p.similarity_full - p.similarity_floor)
        weights: NDArray[np.float32] = np.clip(ramp, 0.0, 1.0).astype(np.float32)
        return weights

    def adjust_logit(self, base_logit: float, embedding: NDArray[np.floating[Any]]) -> float:
        """The corrected logit of a frame given its base logit and embedding."""
        if self._labels.size == 0:
            return base_logit
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        value = base_logit
        for kind in Feedback:
            value += self._subspace_shift(kind, vector)
        weights = self._weights(embedding)
        negative = weights[self._labels == 0]
        positive = weights[self._labels == 1]
        pull = float(negative.max()) if negative.size else 0.0
        push = float(positive.max()) if positive.size else 0.0
        t, m = self._threshold_logit, self.params.margin
        if pull > push:
            # Towards "no failure": at full weight the frame ends margin below the threshold.
            return value - pull * max(0.0, value - (t - m))
        if push > pull:
            return value + push * max(0.0, (t + m) - value)
        return value

    def adjust_score(self, base_score: float, embedding: NDArray[np.floating[Any]]) -> float:
        """Like ``adjust_logit`` but on probabilities."""
        p = min(max(base_score, 1e-7), 1.0 - 1e-7)
        value = self.adjust_logit(math.log(p / (1.0 - p)), embedding)
        if value >= 0:
            return 1.0 / (1.0 + math.exp(-value))
        z = math.exp(value)
        return z / (1.0 + z)


class AdaptationStore:
    """All cameras' adaptations under one data directory (``/data`` in the add-on)."""

    def __init__(
        self, data_dir: Path, *, threshold: float, params: AdaptationParams | None = None
    ) -> None:
        self.root = data_dir / "adaptation"
        self.threshold = threshold
        self.params = params or AdaptationParams()
        self._cameras: dict[str, CameraAdaptation] = {}

    def camera(self, camera_id: str) -> CameraAdaptation:
        """The (cached) adaptation of one camera; empty until feedback arrives."""
        if camera_id not in self._cameras:
            self._cameras[camera_id] = CameraAdaptation(
                self.root / camera_file_name(camera_id),
                threshold=self.threshold,
                params=self.params,
            )
        return self._cameras[camera_id]
