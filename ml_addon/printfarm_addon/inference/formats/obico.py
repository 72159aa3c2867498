"""Obico's YOLOv2 ONNX (``model-weights.onnx`` of obico-server's ml_api).

Input: RGB stretched to the model's size (416), 0-1, NCHW. Outputs ``boxes``
``[1, N, 1, 4]`` (x1, y1, x2, y2 in 0-1) and ``confs`` ``[1, N, classes]`` with the
final per-class confidence. Like Obico's server, boxes above 0.08 survive
non-maximum suppression at 0.45. Obico sums their confidences into ``p``; here
they are combined as independent evidence, 1 - prod(1 - c), which keeps the
score a probability (a single 0.5 box is 0.5; two are 0.75) for the decision.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ....printfarm_detect.decision import to_logit
from ..backends import Backend, InferenceError
from .base import (
    Box,
    Evidence,
    FormatOptions,
    FrameAnalysis,
    ModelAdapter,
    input_size,
    nms,
    single_input,
    to_tensor,
)

OBICO_BOX_THRESHOLD = 0.08
DEFAULT_THRESHOLD = 0.5
MAX_BOXES = 20


class ObicoAdapter(ModelAdapter):
    """Obico's spaghetti detector."""

    format_key = "obico"

    def __init__(self, backend: Backend, options: FormatOptions) -> None:
        """Check for the ``boxes`` and ``confs`` outputs."""
        super().__init__(backend, options)
        self._input = single_input(backend)
        names = {spec.name for spec in backend.outputs}
        if not {"boxes", "confs"} <= names:
            raise InferenceError("an Obico model has 'boxes' and 'confs' outputs")
        self.size = input_size(self._input, options, 416)
        self.threshold = options.threshold or DEFAULT_THRESHOLD
        self.box_threshold = options.box_threshold or OBICO_BOX_THRESHOLD

    def analyse(self, camera_id: str, image: Image.Image) -> FrameAnalysis:
        """Noisy-or of the surviving boxes' confidences."""
        batch = to_tensor(image, self.size)
        out = self.backend.infer({self._input.name: batch}, ["boxes", "confs"])
        try:
            all_boxes = np.asarray(out["boxes"], dtype=np.float32).reshape(-1, 4)
            confs = np.asarray(out["confs"], dtype=np.float32).reshape(len(all_boxes), -1)
        except ValueError as err:
            raise InferenceError("Obico outputs disagree on the number of boxes") from err
        all_scores = confs.max(axis=1) if confs.size else np.zeros(len(all_boxes), np.float32)
        keep = all_scores > self.box_threshold
        boxes, scores = all_boxes[keep], all_scores[keep]
        found = [
            Box(
                x1=float(np.clip(boxes[i, 0], 0, 1)),
                y1=float(np.clip(boxes[i, 1], 0, 1)),
                x2=float(np.clip(boxes[i, 2], 0, 1)),
                y2=float(np.clip(boxes[i, 3], 0, 1)),
                confidence=float(np.clip(scores[i], 0, 1)),
            )
            for i in nms(boxes, scores, self.options.iou)[:MAX_BOXES]
        ]
        score = 1.0 - float(np.prod([1.0 - b.confidence for b in found])) if found else 0.0
        return FrameAnalysis(
            score=score, logit=to_logit(score), evidence=Evidence(boxes=tuple(found))
        )
