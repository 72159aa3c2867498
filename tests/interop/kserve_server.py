"""Serve an ONNX file with KServe's Python model server (Open Inference Protocol, v2 REST).

Runs inside .interop/kserve (scripts/interop/kserve.sh), not in the project venv:

    .interop/kserve/bin/python tests/interop/kserve_server.py MODEL.onnx NAME --http_port N

KServe answers /v2/health, /v2/models/NAME (metadata) and /v2/models/NAME/infer
(JSON tensors and the binary tensor extension); this file only tells it how to
run the model (onnxruntime) and what its inputs and outputs are.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import kserve  # type: ignore[import-not-found]
from kserve import (
    InferOutput,
    InferRequest,
    InferResponse,
    Model,
    ModelServer,
)
import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]

DATATYPES = {"tensor(float)": "FP32", "tensor(int64)": "INT64", "tensor(double)": "FP64"}


class OnnxModel(Model):  # type: ignore[misc]
    """One ONNX model run with onnxruntime."""

    def __init__(self, name: str, path: str) -> None:
        super().__init__(name)
        self.path = path
        self.session: ort.InferenceSession | None = None

    def load(self) -> bool:
        self.session = ort.InferenceSession(self.path, providers=["CPUExecutionProvider"])
        self.ready = True
        return True

    def _types(self, items: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "name": item.name,
                "datatype": DATATYPES.get(item.type, "FP32"),
                "shape": [d if isinstance(d, int) else -1 for d in item.shape],
            }
            for item in items
        ]

    def get_input_types(self) -> list[dict[str, Any]]:
        assert self.session is not None
        return self._types(self.session.get_inputs())

    def get_output_types(self) -> list[dict[str, Any]]:
        assert self.session is not None
        return self._types(self.session.get_outputs())

    async def predict(self, payload, headers=None, response_headers=None):
        assert self.session is not None
        assert isinstance(payload, InferRequest)
        inputs = {item.name: item.as_numpy() for item in payload.inputs}
        wanted = [o.name for o in payload.request_outputs] if payload.request_outputs else None
        names = wanted or [o.name for o in self.session.get_outputs()]
        values = self.session.run(names, inputs)
        outputs = [
            InferOutput(
                name=name,
                shape=list(np.shape(value)),
                datatype="FP32",
                data=np.asarray(value, dtype=np.float32),
            )
            for name, value in zip(names, values, strict=True)
        ]
        # KServe encodes each output as JSON or binary, as the request asked.
        return InferResponse(
            response_id=payload.id or "0",
            model_name=self.name,
            infer_outputs=outputs,
            use_binary_outputs=payload.use_binary_outputs,
            requested_outputs=payload.request_outputs,
        )


def main() -> int:
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("model_file")
    parser.add_argument("name")
    args = parser.parse_args()
    model = OnnxModel(args.name, args.model_file)
    model.load()
    ModelServer(http_port=args.http_port, enable_grpc=False, workers=1).start([model])
    return 0


if __name__ == "__main__":
    sys.exit(main())
