"""The model plus per-camera adaptation: what the add-on calls per frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .adaptation import AdaptationParams, AdaptationStore, Feedback
from .model import Detection, FailureModel, sigmoid
from .preprocess import ImageSource


@dataclass(frozen=True)
class CameraDetection:
    """A frame's result on one camera: the base model's and the adapted verdict."""

    camera_id: str
    base: Detection
    score: float
    logit: float
    failure: bool

    @property
    def adapted(self) -> bool:
        """Whether the camera's feedback changed the score."""
        return self.logit != self.base.logit


class Detector:
    """Scores frames per camera and learns from the user's marks.

    Marks are stored under ``data_dir/adaptation`` and apply from the next frame.
    """

    def __init__(
        self, model: FailureModel, data_dir: Path, *, threshold: float | None = None
    ) -> None:
        self.model = model
        self.threshold = model.threshold if threshold is None else threshold
        self.store = AdaptationStore(
            data_dir,
            threshold=self.threshold,
            params=AdaptationParams.from_metadata(model.metadata),
        )

    def detect(self, camera_id: str, source: ImageSource) -> CameraDetection:
        """Score one frame of ``camera_id`` with that camera's correction applied."""
        base = self.model.predict(source, threshold=self.threshold)
        adapted = self.store.camera(camera_id).adjust_logit(base.logit, base.embedding, base.cells)
        # Unchanged frames keep the model's own score (no float32 round trip via the logit).
        score = base.score if adapted == base.logit else sigmoid(adapted)
        return CameraDetection(
            camera_id=camera_id,
            base=base,
            score=score,
            logit=adapted,
            failure=score >= self.threshold,
        )

    def mark(self, result: CameraDetection, feedback: Feedback) -> None:
        """Record the user's verdict on a frame scored earlier."""
        base = result.base
        self.store.camera(result.camera_id).add(base.embedding, base.logit, feedback, base.cells)

    def reset(self, camera_id: str) -> None:
        """Drop every mark of a camera."""
        self.store.camera(camera_id).reset()
