"""Small ONNX models of each format the add-on reads, generated on the fly (onnx.helper).

Each answers with a failure score that grows with the frame's brightness, so a
test can steer it with a white or a black frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8


def _save(graph: onnx.GraphProto, path: Path, metadata: dict[str, str] | None = None) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


def _brightness(name: str = "images") -> list[onnx.NodeProto]:
    """Nodes computing ``mean`` ([1, 1, 1]) of the input."""
    return [
        helper.make_node("ReduceMean", [name], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["mean4", "shape3"], ["mean"]),
    ]


def yolo_model(path: Path, *, size: int = 64, anchors: int = 8) -> Path:
    """Ultralytics layout [1, 4 + 2, anchors]: 'spaghetti' = brightness, 'nozzle' = 0.9."""
    boxes = np.zeros((1, 4, anchors), np.float32)
    for i in range(anchors):
        boxes[0, :, i] = [8 + 6 * i, 10 + 5 * i, 12, 14]  # cx, cy, w, h in input pixels
    weights = np.linspace(1.0, 0.5, anchors, dtype=np.float32).reshape(1, 1, anchors)
    nodes = [
        *_brightness(),
        helper.make_node("Mul", ["mean", "weights"], ["spaghetti"]),
        helper.make_node("Concat", ["boxes", "spaghetti", "nozzle"], ["output0"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 6, anchors])],
        initializer=[
            numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape3"),
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(boxes, "boxes"),
            numpy_helper.from_array(np.full((1, 1, anchors), 0.9, np.float32), "nozzle"),
        ],
    )
    meta = {"names": "{0: 'spaghetti', 1: 'nozzle'}", "imgsz": f"[{size}, {size}]"}
    return _save(graph, path, meta)


def obico_model(path: Path, *, size: int = 32, count: int = 6) -> Path:
    """Obico layout: boxes [1, N, 1, 4] (0-1), confs [1, N, 1] = brightness x weights."""
    boxes = np.zeros((1, count, 1, 4), np.float32)
    for i in range(count):
        boxes[0, i, 0] = [0.1 * i, 0.1, 0.1 * i + 0.15, 0.3]
    weights = np.linspace(0.9, 0.2, count, dtype=np.float32).reshape(1, count, 1)
    nodes = [
        *_brightness("input"),
        helper.make_node("Mul", ["mean", "weights"], ["confs"]),
        helper.make_node("Identity", ["box_values"], ["boxes"]),
    ]
    graph = helper.make_graph(
        nodes,
        "obico",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, count, 1, 4]),
            helper.make_tensor_value_info("confs", TensorProto.FLOAT, [1, count, 1]),
        ],
        initializer=[
            numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape3"),
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(boxes, "box_values"),
        ],
    )
    return _save(graph, path)


def classifier_model(path: Path, *, size: int = 16, names: str | None = None) -> Path:
    """[1, 2] logits: (ok, failure) = (-4 m, 4 m) with m the normalised brightness."""
    nodes = [
        helper.make_node("ReduceMean", ["pixels"], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["mean4", "shape2"], ["mean"]),
        helper.make_node("Mul", ["mean", "weights"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2])],
        initializer=[
            numpy_helper.from_array(np.array([1, 1], np.int64), "shape2"),
            numpy_helper.from_array(np.array([[-4.0, 4.0]], np.float32), "weights"),
        ],
    )
    return _save(graph, path, {"names": names} if names else None)
