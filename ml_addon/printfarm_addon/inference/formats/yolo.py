"""Ultralytics YOLOv8 / YOLO11 detection exports (``yolo export format=onnx``).

Input: letterboxed RGB, 0-1, NCHW (``imgsz`` from the model's shape or metadata).
Output: ``[1, 4 + classes, anchors]`` (centre x, centre y, width, height in input
pixels, then one score per class), or the NMS-free end-to-end layout
``[1, detections, 6]`` (x1, y1, x2, y2, score, class). The frame's score is the
best failure-class box after non-maximum suppression; the boxes are the evidence.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ....printfarm_detect.decision import to_logit
from ..backends import Backend, InferenceError
from .base import (
    Box,
    Evidence,
    FormatOptions,
    FrameAnalysis,
    ModelAdapter,
    failure_indices,
    input_size,
    letterbox,
    nms,
    parse_names,
    single_input,
)

DEFAULT_THRESHOLD = 0.6
DEFAULT_BOX_THRESHOLD = 0.25
MAX_BOXES = 20


class YoloAdapter(ModelAdapter):
    """Ultralytics detection models."""

    format_key = "yolo"

    def __init__(self, backend: Backend, options: FormatOptions) -> None:
        """Check the layout and find the failure classes."""
        super().__init__(backend, options)
        self._input = single_input(backend)
        if len(backend.outputs) != 1 or len(backend.outputs[0].shape) != 3:
            raise InferenceError("a YOLO detection export has one output of rank 3")
        self._output = backend.outputs[0].name
        imgsz = parse_names(backend.metadata.get("imgsz"))
        default = int(imgsz[0]) if imgsz and imgsz.get(0, "").isdigit() else 640
        self.size = input_size(self._input, options, default)
        self.names = parse_names(backend.metadata.get("names"))
        self.threshold = options.threshold or DEFAULT_THRESHOLD
        self.box_threshold = options.box_threshold or DEFAULT_BOX_THRESHOLD

    def _boxes(
        self, raw: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
        """(x1y1x2y2 in input pixels, score, class) per candidate."""
        rows = raw[0]
        if rows.shape[-1] == 6 and rows.shape[0] != 6:  # end-to-end: x1, y1, x2, y2, score, class
            return rows[:, :4], rows[:, 4], rows[:, 5].astype(np.int64)
        count = len(self.names) or None
        if count is not None and rows.shape[0] != 4 + count and rows.shape[1] == 4 + count:
            rows = rows.T
        elif count is None and rows.shape[0] > rows.shape[1]:
            rows = rows.T  # [anchors, 4 + classes]: the smaller dimension holds the channels
        if rows.shape[0] < 5:
            raise InferenceError("YOLO output has no class scores")
        classes = rows[4:]
        wanted = failure_indices(self.names, self.options.failure_classes, classes.shape[0])
        picked = classes[wanted]
        best = picked.argmax(axis=0)
        scores = picked.max(axis=0)
        cx, cy, w, h = rows[0], rows[1], rows[2], rows[3]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        return boxes, scores, np.asarray(wanted, dtype=np.int64)[best]

    def analyse(self, camera_id: str, image: Image.Image) -> FrameAnalysis:
        """Best failure box; boxes as evidence."""
        boxed, scale, (pad_x, pad_y) = letterbox(image, self.size)
        pixels = np.asarray(boxed, dtype=np.float32) / np.float32(255.0)
        batch = np.ascontiguousarray(pixels.transpose(2, 0, 1))[np.newaxis]
        raw = self.backend.infer({self._input.name: batch}, [self._output])[self._output]
        boxes, scores, classes = self._boxes(np.asarray(raw, dtype=np.float32))
        if boxes.ndim != 2 or len(scores) != len(boxes):
            raise InferenceError("YOLO output does not match its layout")
        keep = scores >= self.box_threshold
        boxes, scores, classes = boxes[keep], scores[keep], classes[keep]
        found: list[Box] = []
        for index in nms(boxes, scores, self.options.iou)[:MAX_BOXES]:
            x1, y1, x2, y2 = boxes[index]
            found.append(
                Box(
                    x1=float(np.clip((x1 - pad_x) / scale / image.width, 0, 1)),
                    y1=float(np.clip((y1 - pad_y) / scale / image.height, 0, 1)),
                    x2=float(np.clip((x2 - pad_x) / scale / image.width, 0, 1)),
                    y2=float(np.clip((y2 - pad_y) / scale / image.height, 0, 1)),
                    confidence=float(scores[index]),
                    label=self.names.get(int(classes[index]), str(int(classes[index]))),
                )
            )
        score = max((b.confidence for b in found), default=0.0)
        score = float(np.clip(score, 0.0, 1.0))
        return FrameAnalysis(
            score=score, logit=to_logit(score), evidence=Evidence(boxes=tuple(found))
        )
