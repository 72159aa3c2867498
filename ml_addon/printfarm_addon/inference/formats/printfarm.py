"""printfarm's own model format (the default model): through ``printfarm_detect.Detector``.

The Detector applies each camera's correction learnt from the user's false-alarm
marks. With a remote backend the same ONNX file is read here for its metadata
(preprocessing, threshold, adaptation parameters) while the server runs it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ....printfarm_detect import CameraDetection, Detector, FailureModel, Feedback
from ....printfarm_detect.model import CELLS_OUTPUT, OUTPUT_NAMES
from ..backends import Backend, InferenceError, LocalBackend
from .base import Evidence, FormatOptions, FrameAnalysis, ModelAdapter

METADATA_KEY = "printfarm"


class RemoteFailureModel(FailureModel):
    """The printfarm model whose raw outputs come from a backend instead of onnxruntime here."""

    def __init__(self, path: Path, backend: Backend) -> None:
        """Read metadata and check outputs from the local copy; run on ``backend``."""
        super().__init__(path)
        served = {spec.name for spec in backend.outputs}
        missing = [name for name in OUTPUT_NAMES if name not in served]
        if missing:
            raise InferenceError(f"the served model lacks outputs {missing}")
        self._names = [*OUTPUT_NAMES, *([CELLS_OUTPUT] if CELLS_OUTPUT in served else [])]
        self._backend = backend
        self._input = backend.inputs[0].name

    def run(
        self, batch: NDArray[np.float32]
    ) -> tuple[
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32] | None,
    ]:
        """The same outputs as a local run, from the server."""
        out = self._backend.infer({self._input: batch}, self._names)
        score, logit, embedding, spatial = (
            np.asarray(out[name], dtype=np.float32) for name in OUTPUT_NAMES
        )
        cells = out.get(CELLS_OUTPUT)
        if cells is not None:
            cells = np.asarray(cells, dtype=np.float32)
            cells = cells.reshape(cells.shape[0], -1, cells.shape[-1])
        return score, logit, embedding, spatial, cells


class PrintfarmAdapter(ModelAdapter):
    """The default model (or a retrained one with printfarm metadata)."""

    format_key = "printfarm"

    def __init__(
        self,
        backend: Backend,
        options: FormatOptions,
        *,
        model_path: Path,
        data_dir: Path,
        threads: int = 1,
    ) -> None:
        """Build the Detector with per-camera marks under ``data_dir``."""
        super().__init__(backend, options)
        try:
            model = (
                FailureModel(model_path, threads=threads)
                if isinstance(backend, LocalBackend)
                else RemoteFailureModel(model_path, backend)
            )
            self.detector = Detector(model, data_dir, threshold=options.threshold)
        except InferenceError:
            raise
        except (OSError, ValueError) as err:
            raise InferenceError(f"cannot use {model_path.name}: {err}") from err
        self.threshold = self.detector.threshold

    def analyse(self, camera_id: str, image: Image.Image) -> FrameAnalysis:
        """Score with the camera's correction; the 7x7 map is the evidence."""
        try:
            result = self.detector.detect(camera_id, image)
        except InferenceError:
            raise
        except Exception as err:  # onnxruntime's own errors on a broken model
            raise InferenceError(f"model run failed: {err}") from err
        heatmap = np.asarray(result.base.spatial_map, dtype=np.float32)
        if heatmap.ndim == 3:
            heatmap = heatmap[0]
        return FrameAnalysis(
            score=result.score,
            logit=result.logit,
            evidence=Evidence(heatmap=heatmap if heatmap.ndim == 2 else None),
            handle=result,
        )

    def false_alarm(self, camera_id: str, image: Image.Image) -> bool:
        """Store the frame as a false-alarm mark for the camera's correction."""
        result: CameraDetection = self.detector.detect(camera_id, image)
        self.detector.mark(result, Feedback.FALSE_ALARM)
        return True

    def reset(self, camera_id: str) -> None:
        """Forget the camera's marks."""
        self.detector.reset(camera_id)

    def describe(self) -> str:
        """Format, file and backend."""
        return f"printfarm model on {self.backend.describe()}"
