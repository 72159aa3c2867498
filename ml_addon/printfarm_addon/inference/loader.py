"""Choose, load and check the model the add-on runs.

The model is the built-in one unless the add-on's config folder holds another:
the ``model`` option names a file there (``my-model.onnx``), and an optional
``my-model.yaml`` beside it says its format and settings. Without a YAML file the
format is read off the model: printfarm metadata, Obico's ``boxes``/``confs``
outputs, a rank-3 output (Ultralytics YOLO) or a class-score output (classifier).
With ``inference_url`` the model runs on a KServe v2 server instead; the local
file is still read for the printfarm format's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...printfarm_detect import default_model_path
from ...printfarm_detect.model import OUTPUT_NAMES
from .backends import Backend, InferenceError, KServeBackend, LocalBackend
from .formats import FORMATS, FormatOptions, ModelAdapter
from .formats.printfarm import METADATA_KEY, PrintfarmAdapter

MAX_SIDECAR_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """Which model, where it runs."""

    path: Path | None = None
    server_url: str | None = None
    server_model: str = "printfarm"
    server_timeout: float = 10.0
    binary: bool = False
    threads: int = 1

    @property
    def model_path(self) -> Path:
        """The model file (the built-in one when none is chosen)."""
        return self.path if self.path is not None else default_model_path()


def _floats(raw: object, count: int, key: str) -> tuple[float, ...] | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or len(raw) != count
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
    ):
        raise InferenceError(f"{key} must be a list of {count} numbers")
    return tuple(float(v) for v in raw)


def read_sidecar(model_path: Path) -> tuple[str | None, FormatOptions]:
    """The format and options from ``<model>.yaml`` (or ``.yml``) next to the model."""
    for suffix in (".yaml", ".yml"):
        path = model_path.with_suffix(suffix)
        if path.is_file():
            break
    else:
        return None, FormatOptions()
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise InferenceError(f"{path.name} is too large for a model settings file")
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InferenceError(f"{path.name} is not valid YAML: {err}") from err
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InferenceError(f"{path.name} must be a mapping of settings")
    fmt = raw.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise InferenceError(f"{path.name}: format must be one of {', '.join(FORMATS)}")
    size = _floats(raw.get("input_size"), 2, "input_size")
    classes = raw.get("failure_classes", [])
    if isinstance(classes, str | int):
        classes = [classes]
    if not isinstance(classes, list) or not all(isinstance(c, str | int) for c in classes):
        raise InferenceError(f"{path.name}: failure_classes must be names or class numbers")
    try:
        options = FormatOptions(
            threshold=_probability(raw.get("threshold"), "threshold"),
            box_threshold=_probability(raw.get("box_threshold"), "box_threshold"),
            iou=_probability(raw.get("iou"), "iou") or 0.45,
            failure_classes=tuple(classes),
            input_size=None if size is None else (int(size[0]), int(size[1])),
            mean=_floats(raw.get("mean"), 3, "mean"),  # type: ignore[arg-type]
            std=_floats(raw.get("std"), 3, "std"),  # type: ignore[arg-type]
            scale=float(raw.get("scale", 1.0 / 255.0)),
            activation=_activation(raw.get("activation")),
        )
    except (TypeError, ValueError) as err:
        raise InferenceError(f"{path.name}: {err}") from err
    return (None if fmt is None else str(fmt)), options


def _probability(raw: object, key: str) -> float | None:
    if raw is None:
        return None
    if not isinstance(raw, int | float) or isinstance(raw, bool) or not 0.0 < raw < 1.0:
        raise InferenceError(f"{key} must be a number between 0 and 1")
    return float(raw)


def _activation(raw: object) -> str | None:
    if raw is None:
        return None
    if raw not in ("softmax", "sigmoid", "none"):
        raise InferenceError("activation must be softmax, sigmoid or none")
    return str(raw)


def detect_format(backend: Backend, local_metadata: dict[str, str]) -> str:
    """The format a model's inputs, outputs and metadata say it has."""
    names = {spec.name for spec in backend.outputs}
    if METADATA_KEY in backend.metadata:
        return "printfarm"
    if METADATA_KEY in local_metadata and set(OUTPUT_NAMES) <= names:
        return "printfarm"  # a served copy of the local printfarm model
    if {"boxes", "confs"} <= names:
        return "obico"
    if len(backend.outputs) == 1 and len(backend.outputs[0].shape) == 3:
        return "yolo"
    if len(backend.outputs) == 1 and len(backend.outputs[0].shape) <= 2:
        return "classifier"
    raise InferenceError(
        "cannot tell the model's format from its outputs: add a YAML file with 'format'"
    )


def _local_metadata(path: Path) -> dict[str, str]:
    """Metadata of the local copy (remote mode): empty when there is none to read."""
    if not path.is_file():
        return {}
    try:
        backend = LocalBackend(path)
    except InferenceError:
        return {}
    metadata = dict(backend.metadata)
    backend.close()
    return metadata


def load_adapter(choice: ModelChoice, data_dir: Path) -> ModelAdapter:
    """Load the chosen model on its backend; InferenceError says why it cannot run."""
    path = choice.model_path
    fmt, options = read_sidecar(path) if choice.path is not None else (None, FormatOptions())
    backend: Backend
    local_metadata: dict[str, str] = {}
    if choice.server_url:
        backend = KServeBackend(
            choice.server_url,
            choice.server_model,
            timeout=choice.server_timeout,
            binary=choice.binary,
        )
        local_metadata = _local_metadata(path)
        if choice.path is not None and METADATA_KEY not in local_metadata:
            # A served copy of the user's model: class names and sizes come from the local file.
            backend.metadata = {**local_metadata, **backend.metadata}
    else:
        backend = LocalBackend(path, threads=choice.threads)
    try:
        fmt = fmt or detect_format(backend, local_metadata)
        if fmt == "printfarm":
            adapter = PrintfarmAdapter(
                backend, options, model_path=path, data_dir=data_dir, threads=choice.threads
            )
            if isinstance(backend, LocalBackend):
                backend.close()  # the Detector's FailureModel runs it: one session, not two
            return adapter
        return FORMATS[fmt](backend, options)
    except BaseException:
        backend.close()
        raise
