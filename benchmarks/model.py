"""Benchmark section "model": latency of the failure model as the add-on runs it.

A 1920x1080 JPEG (quality 85) is made from a demo frame; each iteration decodes
it from bytes, preprocesses it as the model metadata says and runs onnxruntime
on one thread: the full per-frame cost. Decode+preprocess and inference are
also timed on their own.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
import platform
import statistics
import tempfile
import time
from typing import Any

from PIL import Image

from ml_addon.printfarm_detect.adaptation import (
    MAX_CELL_MARKS,
    AdaptationParams,
    CameraAdaptation,
    Feedback,
)
from ml_addon.printfarm_detect.model import FailureModel, default_model_path

from . import Section

ROOT = Path(__file__).resolve().parent.parent
DEMO_FRAME = ROOT / "simulator" / "frames" / "failure" / "failure_1.jpg"
TARGET_MS = 15.0


def make_1080p_jpeg(source: Path = DEMO_FRAME, quality: int = 85) -> bytes:
    """A 1920x1080 JPEG built from a demo frame (upscaled, so decode cost is real)."""
    with Image.open(source) as image:
        frame = image.convert("RGB").resize((1920, 1080), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    frame.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _stats(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000.0 for s in samples_s)
    return {
        "median": statistics.median(ms),
        "p90": ms[min(len(ms) - 1, int(0.9 * len(ms)))],
        "min": ms[0],
    }


def _adaptation_ms(model: FailureModel, jpeg: bytes, iterations: int) -> float:
    """Median cost of the per-camera correction of one frame (marks loaded, cells given)."""
    frame = model.predict(jpeg)
    params = AdaptationParams.from_metadata(model.metadata)
    with tempfile.TemporaryDirectory() as tmp:
        camera = CameraAdaptation(Path(tmp) / "cam.npz", threshold=model.threshold, params=params)
        for k in range(MAX_CELL_MARKS):
            scale = 1.0 + 0.01 * k  # distinct marks, same shapes as real ones
            cells = None if frame.cells is None else frame.cells * scale
            camera.add(frame.embedding * scale, frame.logit, Feedback.FALSE_ALARM, cells)
        samples = []
        for _ in range(iterations):
            t0 = time.perf_counter()
            camera.adjust_logit(frame.logit, frame.embedding, frame.cells)
            samples.append(time.perf_counter() - t0)
    return _stats(samples)["median"]


def run(args: Any) -> Section:
    """Time decode + preprocess + inference of one 1080p frame, 1 thread."""
    path = Path(args.model) if getattr(args, "model", None) else default_model_path()
    iterations = int(getattr(args, "iterations", 50))
    threads = int(getattr(args, "threads", 1))
    model = FailureModel(path, threads=threads)
    jpeg = make_1080p_jpeg()
    for _ in range(5):  # warm-up
        model.predict(jpeg)

    decode, infer, total = [], [], []
    for _ in range(iterations):
        t0 = time.perf_counter()
        batch = model.preprocess.tensor(jpeg)
        t1 = time.perf_counter()
        model.predict_tensor(batch)
        t2 = time.perf_counter()
        decode.append(t1 - t0)
        infer.append(t2 - t1)
        total.append(t2 - t0)

    section = Section("model")
    for label, values in (("decode+preprocess", decode), ("inference", infer), ("total", total)):
        stats = _stats(values)
        for key in ("median", "p90", "min"):
            note = ""
            if label == "total" and key == "median":
                note = (
                    f"target <= {TARGET_MS:g} ms: {'met' if stats[key] <= TARGET_MS else 'MISSED'}"
                )
            section.add(f"{label} {key}", round(stats[key], 2), "ms", note)
    section.add("model size", round(path.stat().st_size / 1e6, 2), "MB", "target < 20 MB")
    section.add(
        "adaptation per frame",
        round(_adaptation_ms(model, jpeg, iterations), 3),
        "ms",
        f"median, camera with {MAX_CELL_MARKS} false-alarm marks, the most the regions use",
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    section.info = {
        "model": str(path),
        "frame": "1920x1080 JPEG q85, decoded from bytes each iteration",
        "iterations": iterations,
        "threads": threads,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(load, 2),
        "python": platform.python_version(),
    }
    return section
