"""Backends: something that runs a model on named tensors and answers named tensors.

``LocalBackend`` runs an ONNX file with onnxruntime in this process.
``KServeBackend`` sends the tensors to a server speaking the Open Inference
Protocol (KServe v2 REST: Triton, KServe, Seldon MLServer), for farms whose
cameras outgrow the Home Assistant machine. Both are blocking; the service calls
them from its thread pool.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any, ClassVar
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from numpy.typing import NDArray
import onnxruntime as ort  # type: ignore[import-untyped]

type Tensor = NDArray[Any]

#: Open Inference Protocol datatypes and their numpy types.
V2_DTYPES: dict[str, np.dtype[Any]] = {
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "FP16": np.dtype(np.float16),
    "INT64": np.dtype(np.int64),
    "INT32": np.dtype(np.int32),
    "INT8": np.dtype(np.int8),
    "UINT8": np.dtype(np.uint8),
    "BOOL": np.dtype(np.bool_),
}
ORT_DTYPES = {
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(float16)": "FP16",
    "tensor(int64)": "INT64",
    "tensor(int32)": "INT32",
    "tensor(int8)": "INT8",
    "tensor(uint8)": "UINT8",
    "tensor(bool)": "BOOL",
}
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
BINARY_HEADER = "Inference-Header-Content-Length"


class InferenceError(Exception):
    """The model could not be loaded or run; never evidence of a failure."""


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """A model input or output: name, shape (None where dynamic) and v2 datatype."""

    name: str
    shape: tuple[int | None, ...]
    datatype: str = "FP32"


class Backend(ABC):
    """Runs one model."""

    type_key: ClassVar[str]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    #: The model's custom metadata (ONNX metadata_props), where the backend can read it.
    metadata: dict[str, str]

    @abstractmethod
    def infer(
        self, inputs: dict[str, Tensor], outputs: list[str] | None = None
    ) -> dict[str, Tensor]:
        """Run the model; the requested outputs (all when None) by name."""

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release what the backend holds."""

    def describe(self) -> str:
        """For logs and the health endpoint."""
        return self.type_key


def _dim(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


class LocalBackend(Backend):
    """onnxruntime on this machine's CPU."""

    type_key = "onnxruntime"

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        """Load ``path``; a missing or corrupt file raises InferenceError."""
        self.path = path
        if not path.is_file():
            raise InferenceError(f"model file {path} does not exist")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session: ort.InferenceSession | None = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own classes for bad files
            raise InferenceError(f"cannot load model {path}: {err}") from err
        self.inputs = tuple(
            TensorSpec(i.name, tuple(_dim(d) for d in i.shape), ORT_DTYPES.get(i.type, "FP32"))
            for i in self._session.get_inputs()
        )
        self.outputs = tuple(
            TensorSpec(o.name, tuple(_dim(d) for d in o.shape), ORT_DTYPES.get(o.type, "FP32"))
            for o in self._session.get_outputs()
        )
        meta = self._session.get_modelmeta()
        self.metadata = dict(meta.custom_metadata_map)

    def infer(
        self, inputs: dict[str, Tensor], outputs: list[str] | None = None
    ) -> dict[str, Tensor]:
        """One run of the session."""
        names = outputs or [o.name for o in self.outputs]
        if self._session is None:
            raise InferenceError("the model was closed")
        try:
            values = self._session.run(names, inputs)
        except Exception as err:  # a shape or type mismatch from a user model
            raise InferenceError(f"model run failed: {err}") from err
        return {name: np.asarray(value) for name, value in zip(names, values, strict=True)}

    def close(self) -> None:
        """Release the session (its memory); the backend cannot run afterwards."""
        self._session = None

    def describe(self) -> str:
        """onnxruntime and the file."""
        return f"onnxruntime ({self.path.name})"


class KServeBackend(Backend):
    """A model served over the Open Inference Protocol (KServe v2 REST)."""

    type_key = "kserve_v2"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        version: str | None = None,
        timeout: float = 10.0,
        binary: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Ask the server for the model's metadata; InferenceError when it cannot answer."""
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InferenceError(f"inference server URL {base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.model = model
        quoted = urllib.parse.quote(model, safe="")
        self._path = f"/v2/models/{quoted}" + (
            f"/versions/{urllib.parse.quote(version, safe='')}" if version else ""
        )
        self.timeout = timeout
        self.binary = binary
        self._headers = dict(headers or {})
        meta = self._get_json(self._path)
        self.inputs = self._specs(meta.get("inputs"), "inputs")
        self.outputs = self._specs(meta.get("outputs"), "outputs")
        self.metadata = {}

    @staticmethod
    def _specs(raw: object, what: str) -> tuple[TensorSpec, ...]:
        if not isinstance(raw, list) or not raw:
            raise InferenceError(f"the server's model metadata lists no {what}")
        specs = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise InferenceError(f"malformed {what} in the server's model metadata")
            shape = item.get("shape")
            dims = tuple(_dim(d) for d in shape) if isinstance(shape, list) else ()
            specs.append(TensorSpec(item["name"], dims, str(item.get("datatype", "FP32"))))
        return tuple(specs)

    def _request(
        self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[bytes, dict[str, str]]:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.base_url + path,
            data=body,
            method="POST" if body is not None else "GET",
            headers={**self._headers, **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data = response.read(MAX_RESPONSE_BYTES + 1)
                answer_headers = {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as err:
            detail = err.read(2000).decode("utf-8", "replace")
            raise InferenceError(f"inference server answered {err.code}: {detail}") from err
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            raise InferenceError(f"inference server unreachable: {err}") from err
        if len(data) > MAX_RESPONSE_BYTES:
            raise InferenceError("inference server answer is too large")
        return data, answer_headers

    def _get_json(self, path: str) -> dict[str, Any]:
        data, _headers = self._request(path)
        try:
            value = json.loads(data)
        except ValueError as err:
            raise InferenceError(
                "inference server answered with something that is not JSON"
            ) from err
        if not isinstance(value, dict):
            raise InferenceError("inference server answered with an unexpected JSON value")
        return value

    def ready(self) -> bool:
        """Whether the server says the model is ready."""
        try:
            self._request(self._path + "/ready")
        except InferenceError:
            return False
        return True

    def infer(
        self, inputs: dict[str, Tensor], outputs: list[str] | None = None
    ) -> dict[str, Tensor]:
        """One POST .../infer; JSON tensors, or the binary tensor extension when enabled."""
        names = outputs or [o.name for o in self.outputs]
        dtypes = {spec.name: spec.datatype for spec in self.inputs}
        request_inputs: list[dict[str, Any]] = []
        blobs: list[bytes] = []
        for name, value in inputs.items():
            datatype = dtypes.get(name, "FP32")
            array = np.ascontiguousarray(value, dtype=V2_DTYPES.get(datatype, np.float32))
            entry: dict[str, Any] = {"name": name, "shape": list(array.shape), "datatype": datatype}
            if self.binary:
                blob = array.tobytes()
                entry["parameters"] = {"binary_data_size": len(blob)}
                blobs.append(blob)
            else:
                entry["data"] = array.reshape(-1).tolist()
            request_inputs.append(entry)
        requested = [
            {"name": n, "parameters": {"binary_data": True}} if self.binary else {"name": n}
            for n in names
        ]
        header = json.dumps({"inputs": request_inputs, "outputs": requested}).encode()
        headers = {"Content-Type": "application/json"}
        body = header
        if self.binary:
            headers = {"Content-Type": "application/octet-stream", BINARY_HEADER: str(len(header))}
            body = header + b"".join(blobs)
        data, answer_headers = self._request(self._path + "/infer", body, headers)
        return self._decode(data, answer_headers.get(BINARY_HEADER.lower()), names)

    def _decode(self, data: bytes, json_length: str | None, names: list[str]) -> dict[str, Tensor]:
        split = len(data)
        if json_length is not None:
            try:
                split = int(json_length)
            except ValueError as err:
                raise InferenceError("bad binary header length from the inference server") from err
            if not 0 < split <= len(data):
                raise InferenceError("bad binary header length from the inference server")
        try:
            answer = json.loads(data[:split])
        except ValueError as err:
            raise InferenceError("inference answer is not JSON") from err
        raw_outputs = answer.get("outputs") if isinstance(answer, dict) else None
        if not isinstance(raw_outputs, list):
            raise InferenceError("inference answer has no outputs")
        offset = split
        result: dict[str, Tensor] = {}
        for item in raw_outputs:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise InferenceError("malformed output in the inference answer")
            shape = item.get("shape")
            if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
                raise InferenceError(f"output {item['name']} has no valid shape")
            dtype = V2_DTYPES.get(str(item.get("datatype")))
            if dtype is None:
                raise InferenceError(f"output {item['name']} has an unsupported datatype")
            size = int(np.prod(shape)) if shape else 1
            params = item.get("parameters")
            binary_size = params.get("binary_data_size") if isinstance(params, dict) else None
            try:
                if isinstance(binary_size, int):
                    if binary_size != size * dtype.itemsize or offset + binary_size > len(data):
                        raise InferenceError(f"output {item['name']} binary size mismatch")
                    flat = np.frombuffer(data, dtype=dtype, count=size, offset=offset)
                    offset += binary_size
                else:
                    flat = np.asarray(item.get("data"), dtype=dtype).reshape(-1)
                result[item["name"]] = flat.reshape(shape)
            except (TypeError, ValueError) as err:
                raise InferenceError(f"output {item['name']} does not match its shape") from err
        missing = [n for n in names if n not in result]
        if missing:
            raise InferenceError(f"inference answer lacks outputs {missing}")
        return result

    def describe(self) -> str:
        """The server and the model name."""
        return f"KServe v2 {self.base_url} model {self.model}"


BACKENDS: dict[str, type[Backend]] = {
    LocalBackend.type_key: LocalBackend,
    KServeBackend.type_key: KServeBackend,
}
