"""Per-camera correction of the failure score from user feedback.

The user marks frames as "false alarm" or "missed failure". Each mark stores the
frame's embedding (centred pooled features, from the model) and base logit under
the data directory, and a false-alarm mark also the frame's cells (the head's
first-layer projection of each region of the picture); ``reset`` deletes them.
Three corrections follow, all numpy:

1. Regions (false alarms; needs the model's ``cells`` output and the head from
   the metadata). A fixed camera's false alarms usually have a cause that sits in
   one place of the picture: waste filament, a cable, a spool, glare on the bed.
   Each region of a new frame is compared with the same region of the marked
   frames, both taken relative to the training set's typical normal frame there.
   A region that looks like a marked one (cosine >= ``cell_similarity_full``,
   partly down to ``cell_similarity_floor``) is left out of the pooled picture,
   and the head sees the mean of the other regions. Where the marks agree with
   one another about a region (mean pairwise cosine of their deviations from
   ``cell_agreement_floor`` to ``cell_agreement_full``), the marks' common
   direction is also taken out of that region of the new frame, as far as the
   frame shows it: this catches regions the cause only partly covers, whose
   other content differs from frame to frame. Regions that look new, such as
   spaghetti elsewhere on the bed, keep their full weight, so the camera's
   ranking of real failures is kept instead of the whole camera being made less
   sensitive. It only ever lowers a score.
2. Missed-failure subspace (needs the head and the training set's mean failure
   embedding). The marks' deviations from that mean (what makes this camera's
   failures look unlike failures: darkness, distance) span a small subspace; the
   part of a new frame's deviation inside it, no further than the marks went, is
   taken out where it pushes the logit towards "no failure", capped at what the
   marks needed to reach ``margin`` above the threshold.
3. Nearest marks (both kinds). A frame whose embedding is close (cosine) to a
   marked one is pulled to the marked side of the threshold: fully at similarity
   >= ``similarity_full``, partly in between, not at all below ``similarity_floor``.
   This clears the repeats of a marked scene.

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

STORE_VERSION = 2  # 2: false-alarm marks also keep the frame's cells
MAX_MARKS = 512
MAX_CELL_MARKS = 64  # the region correction compares with the most recent false alarms


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
    try:
        vector = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"adaptation.{name} must be a list of numbers") from err
    if vector.ndim != 1 or not np.all(np.isfinite(vector)):
        raise ValueError(f"adaptation.{name} must be a flat list of finite numbers")
    return vector


def _matrix(raw: object, name: str) -> NDArray[np.float32] | None:
    if raw is None:
        return None
    try:
        matrix = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"adaptation.{name} must be a list of equal-length lists") from err
    if matrix.ndim != 2 or not matrix.size or not np.all(np.isfinite(matrix)):
        raise ValueError(f"adaptation.{name} must be a list of equal-length lists of numbers")
    return matrix


@dataclass(frozen=True, eq=False)
class AdaptationParams:
    """How marks act on later frames.

    ``head_weight`` is the head's output layer (on the embedding). With
    ``head_bias`` (its first-layer bias) and ``cell_reference`` (the training
    set's mean normal cell per region, regions x hidden) false-alarm marks
    correct regions of later frames (``cell_similarity_*``: when a region matches
    a marked one, ``cell_agreement_*``: when the marks agree about a region); with
    ``failure_reference`` (the mean embedding of the training failures)
    missed-failure marks correct the camera's subspace. Without them only the
    nearest-mark correction applies. ``margin`` (logits) is how far past the
    threshold a correction takes the marked frames.
    """

    similarity_floor: float = 0.6
    similarity_full: float = 0.8
    margin: float = 0.25
    max_directions: int = 16
    cell_similarity_floor: float = 0.75
    cell_similarity_full: float = 0.9
    cell_agreement_floor: float = 0.75
    cell_agreement_full: float = 0.95
    head_weight: NDArray[np.float32] | None = None
    head_bias: NDArray[np.float32] | None = None
    cell_reference: NDArray[np.float32] | None = None
    failure_reference: NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        if not -1.0 <= self.similarity_floor < self.similarity_full <= 1.0:
            raise ValueError("need -1 <= similarity_floor < similarity_full <= 1")
        if not -1.0 <= self.cell_similarity_floor < self.cell_similarity_full <= 1.0:
            raise ValueError("need -1 <= cell_similarity_floor < cell_similarity_full <= 1")
        if not -1.0 <= self.cell_agreement_floor < self.cell_agreement_full <= 1.0:
            raise ValueError("need -1 <= cell_agreement_floor < cell_agreement_full <= 1")
        if self.margin < 0:
            raise ValueError("margin must be >= 0")
        if self.max_directions < 1:
            raise ValueError("max_directions must be >= 1")
        size = None if self.head_weight is None else self.head_weight.shape
        if (self.head_bias is None) != (self.cell_reference is None):
            raise ValueError("head_bias and cell_reference come together")
        if (
            self.head_bias is not None
            and self.cell_reference is not None
            and (
                size is None
                or self.head_bias.shape != size
                or self.cell_reference.shape[1:] != size
            )
        ):
            raise ValueError("head_bias and cell_reference need a head_weight of their size")
        if self.failure_reference is not None and self.failure_reference.shape != size:
            raise ValueError("failure_reference needs a head_weight of the same size")

    @property
    def regions(self) -> int:
        """How many regions the cell correction expects (0: it is off)."""
        return 0 if self.cell_reference is None else int(self.cell_reference.shape[0])

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
            cell_similarity_floor=float(
                raw.get("cell_similarity_floor", default.cell_similarity_floor)
            ),
            cell_similarity_full=float(
                raw.get("cell_similarity_full", default.cell_similarity_full)
            ),
            cell_agreement_floor=float(
                raw.get("cell_agreement_floor", default.cell_agreement_floor)
            ),
            cell_agreement_full=float(raw.get("cell_agreement_full", default.cell_agreement_full)),
            head_weight=_vector(raw.get("head_weight"), "head_weight"),
            head_bias=_vector(raw.get("head_bias"), "head_bias"),
            cell_reference=_matrix(raw.get("cell_reference"), "cell_reference"),
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
        # Cells of the most recent false-alarm marks, flattened (marks x regions*hidden).
        self._cells: NDArray[np.float16] = np.zeros((0, 0), dtype=np.float16)
        # Derived from the marks whenever they change (see _derive).
        self._subspace: _Subspace | None = None  # of the missed-failure marks
        self._cell_marks: NDArray[np.float32] | None = None  # unit deviations of the cells
        self._cell_direction: NDArray[np.float32] | None = None  # marks' common one, per region
        self._cell_agreement: NDArray[np.float32] | None = None  # how much to trust it (0..1)
        if path.exists():
            self._load()
        self._derive()

    # -- storage -------------------------------------------------------------
    def _load(self) -> None:
        with np.load(self.path, allow_pickle=False) as data:
            version = int(data["version"])
            if version not in (1, STORE_VERSION):
                raise ValueError(f"{self.path}: unsupported adaptation store version")
            self._embeddings = np.asarray(data["embeddings"], dtype=np.float32)
            self._labels = np.asarray(data["labels"], dtype=np.int8)
            self._logits = np.asarray(data["logits"], dtype=np.float32)
            if version >= 2:
                self._cells = np.asarray(data["false_alarm_cells"], dtype=np.float16)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(
            tmp,
            version=np.int32(STORE_VERSION),
            embeddings=self._embeddings,
            labels=self._labels,
            logits=self._logits,
            false_alarm_cells=self._cells,
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

    def _cell_vector(self, cells: NDArray[np.floating[Any]] | None) -> NDArray[np.float32] | None:
        """A frame's cells as a flat vector, or None when the region correction is off."""
        reference = self.params.cell_reference
        if cells is None or reference is None:
            return None
        flat = np.asarray(cells, dtype=np.float32).reshape(-1)
        if flat.size != reference.size:
            raise ValueError(
                f"cells have {flat.size} values, the model metadata expects {reference.size}"
            )
        if not np.all(np.isfinite(flat)):
            raise ValueError("cells must be finite")
        return flat

    def add(
        self,
        embedding: NDArray[np.floating[Any]],
        base_logit: float,
        feedback: Feedback,
        cells: NDArray[np.floating[Any]] | None = None,
    ) -> None:
        """Record a mark and persist it; it applies from the next frame on."""
        _normalise(embedding)  # validates
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if self._embeddings.size and self._embeddings.shape[1] != vector.size:
            raise ValueError("embedding size differs from the stored marks (model changed?)")
        flat = self._cell_vector(cells) if feedback is Feedback.FALSE_ALARM else None
        if flat is not None and self._cells.size and self._cells.shape[1] != flat.size:
            raise ValueError("cell size differs from the stored marks (model changed?)")
        label = np.int8(_LABEL[feedback])
        self._embeddings = np.vstack([self._embeddings.reshape(-1, vector.size), vector])
        self._labels = np.append(self._labels, label).astype(np.int8)
        self._logits = np.append(self._logits, np.float32(base_logit)).astype(np.float32)
        if self._labels.size > MAX_MARKS:  # keep the most recent marks
            self._embeddings = self._embeddings[-MAX_MARKS:]
            self._labels = self._labels[-MAX_MARKS:]
            self._logits = self._logits[-MAX_MARKS:]
        if flat is not None:
            rows = self._cells.reshape(-1, flat.size)
            self._cells = np.vstack([rows, flat.astype(np.float16)])[-MAX_CELL_MARKS:]
        self._derive()
        self._save()

    def reset(self) -> None:
        """Forget every mark of this camera (back to the base model)."""
        self._embeddings = np.zeros((0, 0), dtype=np.float32)
        self._labels = np.zeros(0, dtype=np.int8)
        self._logits = np.zeros(0, dtype=np.float32)
        self._cells = np.zeros((0, 0), dtype=np.float16)
        self._derive()
        self.path.unlink(missing_ok=True)

    def _derive(self) -> None:
        """What the corrections need from the marks, computed once per change of the marks."""
        p = self.params
        missed = self._embeddings[self._labels == _LABEL[Feedback.MISSED_FAILURE]]
        self._subspace = (
            _Subspace.fit(missed[-4 * p.max_directions :] - p.failure_reference, p.max_directions)
            if p.head_weight is not None
            and p.failure_reference is not None
            and missed.size
            and missed.shape[1] == p.head_weight.size
            else None
        )
        self._cell_marks = (
            self._unit_rows(self._deviations(self._cells.astype(np.float32)))
            if p.cell_reference is not None
            and self._cells.size
            and self._cells.shape[1] == p.cell_reference.size
            else None
        )
        self._cell_direction = self._cell_agreement = None
        marks = self._cell_marks
        if marks is not None and marks.shape[0] >= 2:
            n = marks.shape[0]
            total = marks.sum(axis=0)  # regions x hidden
            # Mean pairwise cosine of the marks in each region: 1 when they all agree.
            agreement = ((total * total).sum(axis=1) - n) / (n * (n - 1))
            span = p.cell_agreement_full - p.cell_agreement_floor
            self._cell_agreement = np.clip((agreement - p.cell_agreement_floor) / span, 0.0, 1.0)
            self._cell_direction = self._unit_rows(total)

    # -- correction ----------------------------------------------------------
    def _deviations(self, flat: NDArray[np.float32]) -> NDArray[np.float32]:
        """Cells minus the typical normal cell of each region (frames x regions x hidden)."""
        reference = self.params.cell_reference
        assert reference is not None
        deviations: NDArray[np.float32] = flat.reshape(-1, *reference.shape) - reference
        return deviations

    @staticmethod
    def _unit_rows(x: NDArray[np.float32]) -> NDArray[np.float32]:
        norms = np.linalg.norm(x, axis=-1, keepdims=True)
        out: NDArray[np.float32] = (x / np.maximum(norms, 1e-6)).astype(np.float32)
        return out

    def _region_shift(self, cells: NDArray[np.floating[Any]] | None) -> float:
        """How far the false-alarm marks lower this frame's logit through its regions (<= 0)."""
        p = self.params
        flat = self._cell_vector(cells)
        marks = self._cell_marks
        if (
            flat is None
            or marks is None
            or p.head_bias is None
            or p.head_weight is None
            or p.cell_reference is None
        ):
            return 0.0
        frame = flat.reshape(p.regions, -1)
        deviation = self._deviations(flat)[0]
        # Per region: the best cosine with the same region of any marked frame.
        similarity = np.einsum("mrh,rh->mr", marks, self._unit_rows(deviation)).max(axis=0)
        span = p.cell_similarity_full - p.cell_similarity_floor
        keep = 1.0 - np.clip((similarity - p.cell_similarity_floor) / span, 0.0, 1.0)
        direction, agreement = self._cell_direction, self._cell_agreement
        if direction is None or agreement is None:  # fewer than two marks
            if keep.min() >= 1.0:
                return 0.0
            corrected = frame
        else:
            shown = np.maximum((deviation * direction).sum(axis=1), 0.0)
            corrected = frame - (agreement * shown)[:, None] * direction
        kept = float(keep.sum())
        pooled = (keep[:, None] * corrected).sum(axis=0)
        if kept < 1.0:  # (almost) every region is a known false alarm: typical normal fills in
            pooled = pooled + (1.0 - kept) * p.cell_reference.mean(axis=0)
            kept = 1.0
        before = np.maximum(frame.mean(axis=0) + p.head_bias, 0.0)
        after = np.maximum(pooled / kept + p.head_bias, 0.0)
        return min(0.0, float(p.head_weight @ (after - before)))

    def _subspace_shift(self, embedding: NDArray[np.float32]) -> float:
        """How far the missed-failure marks raise this frame's logit (>= 0)."""
        subspace = self._subspace
        p = self.params
        if subspace is None or p.failure_reference is None or p.head_weight is None:
            return 0.0
        removed = subspace.explained(embedding - p.failure_reference)
        contribution = float(p.head_weight @ removed)
        logits = self._logits[self._labels == _LABEL[Feedback.MISSED_FAILURE]]
        # Never more than the marks themselves needed to get margin above the threshold:
        # a frame far below every mark stays below.
        cap = max(0.0, (self._threshold_logit + p.margin) - float(logits.min()))
        return min(cap, max(0.0, -contribution))

    def _weights(self, embedding: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
        marks = self._embeddings
        norms = np.linalg.norm(marks, axis=1)
        similarity = (marks @ _normalise(embedding)) / np.maximum(norms, 1e-12)
        p = self.params
        ramp = (similarity - p.similarity_floor) / (p.similarity_full - p.similarity_floor)
        weights: NDArray[np.float32] = np.clip(ramp, 0.0, 1.0).astype(np.float32)
        return weights

    def adjust_logit(
        self,
        base_logit: float,
        embedding: NDArray[np.floating[Any]],
        cells: NDArray[np.floating[Any]] | None = None,
    ) -> float:
        """The corrected logit of a frame given its base logit, embedding and cells."""
        if self._labels.size == 0:
            return base_logit
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        value = base_logit + self._region_shift(cells) + self._subspace_shift(vector)
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

    def adjust_score(
        self,
        base_score: float,
        embedding: NDArray[np.floating[Any]],
        cells: NDArray[np.floating[Any]] | None = None,
    ) -> float:
        """Like ``adjust_logit`` but on probabilities."""
        p = min(max(base_score, 1e-7), 1.0 - 1e-7)
        value = self.adjust_logit(math.log(p / (1.0 - p)), embedding, cells)
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
