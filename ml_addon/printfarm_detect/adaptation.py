"""Per-camera correction of the failure score from user feedback.

The model scores every region (cell) of the picture and a frame's logit is the
largest cell logit. The user marks frames as "false alarm" or "missed failure".
Each mark stores the frame's embedding, base logit and cells (the head's hidden
vector of each region) under the data directory; ``reset`` deletes them.

The correction works region by region, so it can only touch what looks like the
marked frames:

- A false-alarm mark keeps the marked frame's *hot* regions: those whose own logit
  came near the threshold (the ones that raised the alarm; at least the hottest).
  The most recent ``MAX_TEMPLATES`` such regions are compared with.
  A region of a later frame whose hidden vector is close to one of those (cosine of
  the vectors centred on the typical normal region, from ``cell_similarity_floor``,
  fully at ``cell_similarity_full``) has its logit pulled to ``margin`` below the
  threshold. Every other region keeps its logit, and the frame's logit is again the
  largest: spaghetti that appears later somewhere, looking unlike the marked regions,
  is flagged as before. Marking empty-bed frames can therefore not hide a failure.
- A missed-failure mark keeps the marked frame's hottest region (where the model saw
  the most evidence, even if too little); later regions close to it are pushed to
  ``margin`` above the threshold. It only raises what resembles the mark.
- Where a region is close to marks of both kinds, the closer kind wins.

Models without a ``cells`` output fall back to whole-frame nearest marks on the
embedding (``similarity_floor``/``similarity_full``).

Marks belong to the model that scored them: the store records the model's id, and
marks of another model (or of a store version from before the region model) are set
aside on load instead of being misapplied. The parameters travel in the model
metadata (``adaptation`` section), because they depend on the model's hidden space.
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

STORE_VERSION = 3  # 3: region model; cells kept for both kinds of marks, with the model id
MAX_MARKS = 512
MAX_CELL_MARKS = 64  # the region correction compares with the most recent marks
MISSED_REGIONS = 1  # hottest regions of a missed-failure mark that later frames are compared with
HOT_BELOW_THRESHOLD = 1.0  # a false alarm's region is hot from this many logits below threshold
MAX_TEMPLATES = 512  # regions compared with, from the most recent marks (bounds the cost)


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


def _number(raw: object, name: str) -> float | None:
    if raw is None:
        return None
    if not isinstance(raw, int | float) or isinstance(raw, bool) or not math.isfinite(raw):
        raise ValueError(f"adaptation.{name} must be a finite number")
    return float(raw)


@dataclass(frozen=True, eq=False)
class AdaptationParams:
    """How marks act on later frames.

    ``head_weight`` and ``head_offset`` turn a region's hidden vector (the model's
    ``cells`` output) into its logit; ``cell_reference`` is the typical normal
    region's hidden vector, which similarities are measured from. Without them only
    the whole-frame fallback applies. ``margin`` (logits) is how far past the
    threshold a correction takes what resembles a mark. ``model_id`` names the model
    the marks belong to.
    """

    similarity_floor: float = 0.6
    similarity_full: float = 0.8
    margin: float = 0.25
    cell_similarity_floor: float = 0.8
    cell_similarity_full: float = 0.9
    head_weight: NDArray[np.float32] | None = None
    head_offset: float | None = None
    cell_reference: NDArray[np.float32] | None = None
    model_id: str = ""

    def __post_init__(self) -> None:
        if not -1.0 <= self.similarity_floor < self.similarity_full <= 1.0:
            raise ValueError("need -1 <= similarity_floor < similarity_full <= 1")
        if not -1.0 <= self.cell_similarity_floor < self.cell_similarity_full <= 1.0:
            raise ValueError("need -1 <= cell_similarity_floor < cell_similarity_full <= 1")
        if self.margin < 0:
            raise ValueError("margin must be >= 0")
        parts = (self.head_weight, self.head_offset, self.cell_reference)
        if any(p is None for p in parts) and not all(p is None for p in parts):
            raise ValueError("head_weight, head_offset and cell_reference come together")
        if (
            self.head_weight is not None
            and self.cell_reference is not None
            and self.cell_reference.shape != self.head_weight.shape
        ):
            raise ValueError("cell_reference needs a head_weight of its size")

    @property
    def regions_on(self) -> bool:
        """Whether the region correction can run (the metadata describes the head)."""
        return self.head_weight is not None

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> AdaptationParams:
        """Read the ``adaptation`` section of the model metadata (defaults if absent)."""
        raw = meta.get("adaptation")
        model_id = f"{meta.get('name', '')}:{meta.get('version', '')}:{meta.get('id', '')}"
        if not isinstance(raw, dict):
            return cls(model_id=model_id)
        default = cls()
        return cls(
            similarity_floor=float(raw.get("similarity_floor", default.similarity_floor)),
            similarity_full=float(raw.get("similarity_full", default.similarity_full)),
            margin=float(raw.get("margin", default.margin)),
            cell_similarity_floor=float(
                raw.get("cell_similarity_floor", default.cell_similarity_floor)
            ),
            cell_similarity_full=float(
                raw.get("cell_similarity_full", default.cell_similarity_full)
            ),
            head_weight=_vector(raw.get("head_weight"), "head_weight"),
            head_offset=_number(raw.get("head_offset"), "head_offset"),
            cell_reference=_vector(raw.get("cell_reference"), "cell_reference"),
            model_id=model_id,
        )


def _normalise(vector: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    flat = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(flat))
    if not math.isfinite(norm) or norm == 0.0:
        raise ValueError("embedding must be a finite, non-zero vector")
    return flat / np.float32(norm)


def _unit_rows(x: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    out: NDArray[np.float32] = (x / np.maximum(norms, 1e-6)).astype(np.float32)
    return out


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
        # Cells of the most recent marks (marks x regions*hidden) and their kind.
        self._cells: NDArray[np.float16] = np.zeros((0, 0), dtype=np.float16)
        self._cell_labels: NDArray[np.int8] = np.zeros(0, dtype=np.int8)
        # Derived from the marks whenever they change (see _derive): unit templates.
        self._false_alarm_regions: NDArray[np.float32] | None = None
        self._missed_regions: NDArray[np.float32] | None = None
        #: Marks found on disk that belong to another model (not applied).
        self.set_aside = 0
        if path.exists():
            self._load()
        self._derive()

    # -- storage -------------------------------------------------------------
    def _load(self) -> None:
        with np.load(self.path, allow_pickle=False) as data:
            version = int(data["version"])
            if version not in (1, 2, STORE_VERSION):
                raise ValueError(f"{self.path}: unsupported adaptation store version")
            model = str(data["model"]) if "model" in data.files else None
            if version < STORE_VERSION or model != self.params.model_id:
                # Scored by another model: its embeddings and cells mean something else.
                self.set_aside = int(np.asarray(data["labels"]).size)
                return
            self._embeddings = np.asarray(data["embeddings"], dtype=np.float32)
            self._labels = np.asarray(data["labels"], dtype=np.int8)
            self._logits = np.asarray(data["logits"], dtype=np.float32)
            self._cells = np.asarray(data["cells"], dtype=np.float16)
            self._cell_labels = np.asarray(data["cell_labels"], dtype=np.int8)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(
            tmp,
            version=np.int32(STORE_VERSION),
            model=np.str_(self.params.model_id),
            embeddings=self._embeddings,
            labels=self._labels,
            logits=self._logits,
            cells=self._cells,
            cell_labels=self._cell_labels,
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

    def _cell_matrix(self, cells: NDArray[np.floating[Any]] | None) -> NDArray[np.float32] | None:
        """A frame's cells as regions x hidden, or None when the region correction is off."""
        weight = self.params.head_weight
        if cells is None or weight is None:
            return None
        flat = np.asarray(cells, dtype=np.float32).reshape(-1)
        if flat.size == 0 or flat.size % weight.size:
            raise ValueError(
                f"cells have {flat.size} values, not a multiple of the model's {weight.size}"
            )
        if not np.all(np.isfinite(flat)):
            raise ValueError("cells must be finite")
        return flat.reshape(-1, weight.size)

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
        matrix = self._cell_matrix(cells)
        flat = None if matrix is None else matrix.reshape(-1)
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
            self._cell_labels = np.append(self._cell_labels, label).astype(np.int8)[
                -MAX_CELL_MARKS:
            ]
        self._derive()
        self._save()

    def reset(self) -> None:
        """Forget every mark of this camera (back to the base model)."""
        self._embeddings = np.zeros((0, 0), dtype=np.float32)
        self._labels = np.zeros(0, dtype=np.int8)
        self._logits = np.zeros(0, dtype=np.float32)
        self._cells = np.zeros((0, 0), dtype=np.float16)
        self._cell_labels = np.zeros(0, dtype=np.int8)
        self.set_aside = 0
        self._derive()
        self.path.unlink(missing_ok=True)

    # -- regions ---------------------------------------------------------------
    def cell_logits(self, cells: NDArray[np.float32]) -> NDArray[np.float32]:
        """Each region's logit from its hidden vector (regions x hidden -> regions)."""
        p = self.params
        assert p.head_weight is not None
        assert p.head_offset is not None
        out: NDArray[np.float32] = (cells @ p.head_weight + np.float32(p.head_offset)).astype(
            np.float32
        )
        return out

    def _directions(self, cells: NDArray[np.float32]) -> NDArray[np.float32]:
        """Unit vectors of regions' hidden vectors relative to the typical normal region."""
        reference = self.params.cell_reference
        assert reference is not None
        return _unit_rows(cells - reference)

    def _derive(self) -> None:
        """The regions later frames are compared with, once per change of the marks."""
        self._false_alarm_regions = self._missed_regions = None
        if not self.params.regions_on or not self._cells.size:
            return
        false_alarm, missed = [], []
        hidden = self.params.head_weight.size  # type: ignore[union-attr]
        for row, label in zip(self._cells, self._cell_labels, strict=True):
            cells = row.astype(np.float32).reshape(-1, hidden)
            logits = self.cell_logits(cells)
            order = np.argsort(logits)[::-1]
            if label == _LABEL[Feedback.FALSE_ALARM]:
                hot = logits >= self._threshold_logit - HOT_BELOW_THRESHOLD
                hot[order[0]] = True
                false_alarm.append(cells[hot])
            else:
                missed.append(cells[order[:MISSED_REGIONS]])
        if false_alarm:
            self._false_alarm_regions = self._directions(np.vstack(false_alarm)[-MAX_TEMPLATES:])
        if missed:
            self._missed_regions = self._directions(np.vstack(missed)[-MAX_TEMPLATES:])

    def _ramp(self, similarity: NDArray[np.float32]) -> NDArray[np.float32]:
        p = self.params
        span = p.cell_similarity_full - p.cell_similarity_floor
        out: NDArray[np.float32] = np.clip(
            (similarity - p.cell_similarity_floor) / span, 0.0, 1.0
        ).astype(np.float32)
        return out

    def _region_logit(self, cells: NDArray[np.float32]) -> tuple[float, float]:
        """The frame's logit before and after the region correction (largest region)."""
        logits = self.cell_logits(cells)
        directions = self._directions(cells)
        zeros = np.zeros(logits.size, dtype=np.float32)
        pull = (
            self._ramp((directions @ self._false_alarm_regions.T).max(axis=1))
            if self._false_alarm_regions is not None
            else zeros
        )
        push = (
            self._ramp((directions @ self._missed_regions.T).max(axis=1))
            if self._missed_regions is not None
            else zeros
        )
        t, m = self._threshold_logit, self.params.margin
        lowered = logits - pull * np.maximum(0.0, logits - (t - m))
        raised = logits + push * np.maximum(0.0, (t + m) - logits)
        corrected = np.where(push > pull, raised, np.where(pull > push, lowered, logits))
        return float(logits.max()), float(corrected.max())

    # -- whole-frame fallback (models without cells) --------------------------------
    def _weights(self, embedding: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
        marks = self._embeddings
        norms = np.linalg.norm(marks, axis=1)
        similarity = (marks @ _normalise(embedding)) / np.maximum(norms, 1e-12)
        p = self.params
        ramp = (similarity - p.similarity_floor) / (p.similarity_full - p.similarity_floor)
        weights: NDArray[np.float32] = np.clip(ramp, 0.0, 1.0).astype(np.float32)
        return weights

    def _frame_logit(self, value: float, embedding: NDArray[np.floating[Any]]) -> float:
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

    def adjust_logit(
        self,
        base_logit: float,
        embedding: NDArray[np.floating[Any]],
        cells: NDArray[np.floating[Any]] | None = None,
    ) -> float:
        """The corrected logit of a frame given its base logit, embedding and cells."""
        if self._labels.size == 0:
            return base_logit
        matrix = self._cell_matrix(cells)
        if matrix is None or self._cells.size == 0:
            return self._frame_logit(base_logit, embedding)
        before, after = self._region_logit(matrix)
        # The base logit is the largest region's; keep it exactly where nothing changed.
        return base_logit if after == before else base_logit + (after - before)

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
