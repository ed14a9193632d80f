"""Open Inference Protocol v2 (REST): tensors in, tensors out, JSON or the binary tensor extension.

A tabular model takes one input per raw column (named like the column, shape ``[n]`` or ``[n, 1]``)
or, when every column is numeric, one 2-D tensor ``[n, columns]`` under any other name.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from modelport.core.schema import ColumnKind, ColumnSpec, Signature
from modelport.errors import Problem, ProtocolError, SchemaError
from modelport.inference.model import Prediction
from modelport.serving.codecs import jsonio

#: header of the binary tensor extension: the JSON part's length, binary tensors follow it.
HEADER_LENGTH = "inference-header-content-length"

DTYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_), "UINT8": np.dtype("<u1"), "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"), "UINT64": np.dtype("<u8"), "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"), "INT32": np.dtype("<i4"), "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"), "FP32": np.dtype("<f4"), "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}


class RequestInput(msgspec.Struct):
    name: str
    shape: list[int]
    datatype: str
    data: Any = None
    parameters: dict[str, Any] | None = None


class RequestOutput(msgspec.Struct):
    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(msgspec.Struct):
    inputs: list[RequestInput]
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[RequestOutput] | None = None


_request_decoder = msgspec.json.Decoder(InferenceRequest)


@dataclass(frozen=True)
class Decoded:
    """A decoded infer request: raw input for validation, and how to answer."""

    raw: Any
    outputs: tuple[str, ...]
    binary: frozenset[str]
    request_id: str | None

    @property
    def proba(self) -> bool:
        return "probabilities" in self.outputs


def output_names(signature: Signature, task: str) -> tuple[str, ...]:
    names = tuple(o.name for o in signature.outputs)
    if names:
        return names
    return ("prediction", "probabilities") if task == "classification" else ("prediction",)


def decode(body: bytes, header_length: str | None, signature: Signature, available: tuple[str, ...]
           ) -> Decoded:
    """Parse an infer request (JSON, or JSON followed by binary tensors) into raw input."""
    json_part, binary_part = _split(body, header_length)
    request = jsonio.decode_as(json_part, _request_decoder)
    arrays = _tensors(request.inputs, binary_part)
    outputs, binary = _requested(request, available)
    return Decoded(_raw_input(request.inputs, arrays, signature), outputs, binary, request.id)


def _split(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    if header_length is None:
        return body, b""
    try:
        size = int(header_length)
    except ValueError:
        raise ProtocolError(f"{HEADER_LENGTH} must be an integer, got {header_length!r}") from None
    if not 0 <= size <= len(body):
        raise ProtocolError(f"{HEADER_LENGTH} {size} does not fit a body of {len(body)} bytes")
    return body[:size], body[size:]


def _tensors(inputs: list[RequestInput], binary: bytes) -> list[np.ndarray]:
    arrays = []
    offset = 0
    for i, tensor in enumerate(inputs):
        where = f"inputs[{i}] ({tensor.name})"
        dtype = DTYPES.get(tensor.datatype)
        if dtype is None:
            raise ProtocolError(f"{where}: unknown datatype {tensor.datatype!r} "
                                f"(one of {', '.join(DTYPES)})")
        if any(d < 0 for d in tensor.shape):
            raise ProtocolError(f"{where}: negative dimension in shape {tensor.shape}")
        size = (tensor.parameters or {}).get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(binary):
                raise ProtocolError(f"{where}: binary_data_size {size!r} does not fit the body")
            array = _from_bytes(binary[offset:offset + size], dtype, tensor.datatype, where)
            offset += size
        else:
            if tensor.data is None:
                raise ProtocolError(f"{where}: has neither data nor binary_data_size")
            array = _from_json(tensor.data, dtype, where)
        arrays.append(_reshape(array, tensor.shape, where))
    return arrays


def _from_json(data: Any, dtype: np.dtype[Any], where: str) -> np.ndarray:
    try:
        array = np.asarray(data, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        if dtype.kind == "f":  # JSON has no NaN: null stands for a missing value
            try:
                return _nullable_floats(data, dtype)
            except (TypeError, ValueError):
                pass
        raise ProtocolError(f"{where}: data does not hold {dtype.name} values") from None
    if dtype.kind == "O":
        array = array.ravel()
        if not all(isinstance(v, str) or v is None for v in array):
            raise ProtocolError(f"{where}: BYTES data must hold strings (or null for a missing value)")
    return array


def _nullable_floats(data: Any, dtype: np.dtype[Any]) -> np.ndarray:
    flat = np.asarray(data, dtype=object).ravel()
    return np.array([math.nan if v is None else v for v in flat], dtype=dtype)


def _from_bytes(chunk: bytes, dtype: np.dtype[Any], datatype: str, where: str) -> np.ndarray:
    if datatype != "BYTES":
        if len(chunk) % dtype.itemsize:
            raise ProtocolError(f"{where}: {len(chunk)} bytes is not a whole number of {datatype}")
        return np.frombuffer(chunk, dtype=dtype)
    values: list[str] = []
    offset = 0
    while offset < len(chunk):
        if offset + 4 > len(chunk):
            raise ProtocolError(f"{where}: truncated BYTES element")
        (length,) = struct.unpack_from("<I", chunk, offset)
        offset += 4
        try:
            values.append(chunk[offset:offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(f"{where}: BYTES element is not UTF-8") from None
        offset += length
    return np.array(values, dtype=object)


def _reshape(array: np.ndarray, shape: list[int], where: str) -> np.ndarray:
    expected = math.prod(shape)
    if array.size != expected:
        raise ProtocolError(f"{where}: shape {shape} holds {expected} values, data has {array.size}")
    return array.reshape(shape)


def _requested(request: InferenceRequest, available: tuple[str, ...]
               ) -> tuple[tuple[str, ...], frozenset[str]]:
    all_binary = bool((request.parameters or {}).get("binary_data_output", False))
    if not request.outputs:
        return available, frozenset(available) if all_binary else frozenset()
    problems = [Problem(f"outputs[{i}]", f"unknown output {o.name!r} (available: {', '.join(available)})")
                for i, o in enumerate(request.outputs) if o.name not in available]
    if problems:
        raise SchemaError(problems)
    binary = {o.name for o in request.outputs
              if (o.parameters or {}).get("binary_data", all_binary)}
    return tuple(o.name for o in request.outputs), frozenset(binary)


def _raw_input(inputs: list[RequestInput], arrays: list[np.ndarray], signature: Signature) -> Any:
    names = signature.name_set
    if len(inputs) == 1 and inputs[0].name not in names:
        return arrays[0]  # one tensor for the whole (all-numeric) row; to_frame checks the rest
    problems: list[Problem] = []
    columns: dict[str, np.ndarray] = {}
    for tensor, array in zip(inputs, arrays, strict=True):
        if tensor.name in columns:
            problems.append(Problem(tensor.name, "input appears more than once"))
        elif array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1):
            columns[tensor.name] = array.reshape(-1)
        else:
            problems.append(Problem(tensor.name, f"a column input has shape [n] or [n, 1], "
                                    f"got {list(array.shape)}"))
    if problems:
        raise SchemaError(problems)
    return columns


def datatype_of(array: np.ndarray) -> str:
    kind = array.dtype.kind
    if kind == "f":
        return "FP32" if array.dtype == np.float32 else "FP64"
    if kind == "i":
        return "INT64"
    if kind == "u":
        return "UINT64"
    if kind == "b":
        return "BOOL"
    return "BYTES"


def column_datatype(spec: ColumnSpec) -> str:
    """The tensor datatype a client sends for one raw column."""
    if spec.kind is ColumnKind.FLOAT:
        return "FP64"
    if spec.kind is ColumnKind.INT:
        return "INT64"
    if spec.kind is ColumnKind.BOOL:
        return "BOOL"
    if spec.kind is ColumnKind.CATEGORY and spec.levels and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in spec.levels):
        return "INT64" if all(isinstance(v, int) for v in spec.levels) else "FP64"
    return "BYTES"


def _output_array(name: str, prediction: Prediction) -> np.ndarray | None:
    if name == "probabilities":
        return prediction.probabilities
    values = np.asarray(prediction.values)
    if values.dtype.kind in "fiub":
        return values
    return np.array([str(v) for v in values.ravel()], dtype=object).reshape(values.shape)


def _tensor_bytes(array: np.ndarray, datatype: str) -> bytes:
    if datatype != "BYTES":
        return np.ascontiguousarray(array, dtype=DTYPES[datatype]).tobytes()
    parts = []
    for value in array.ravel():
        data = str(value).encode("utf-8")
        parts.append(struct.pack("<I", len(data)))
        parts.append(data)
    return b"".join(parts)


def encode(decoded: Decoded, prediction: Prediction, model: str, version: str, ids: list[str] | None = None
           ) -> tuple[bytes, dict[str, str]]:
    """Response body and extra headers (the binary extension's header when tensors are binary)."""
    outputs: list[dict[str, Any]] = []
    buffers: list[bytes] = []
    for name in decoded.outputs:
        array = _output_array(name, prediction)
        if array is None:
            continue
        datatype = datatype_of(array)
        entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if name in decoded.binary:
            data = _tensor_bytes(array, datatype)
            entry["parameters"] = {"binary_data_size": len(data)}
            buffers.append(data)
        else:
            entry["data"] = array.ravel().tolist()
        outputs.append(entry)
    response: dict[str, Any] = {"model_name": model, "model_version": version, "outputs": outputs}
    if decoded.request_id is not None:
        response["id"] = decoded.request_id
    parameters: dict[str, Any] = {}
    if prediction.warnings:
        parameters["warnings"] = [str(w) for w in prediction.warnings]
    if ids:
        parameters["prediction_ids"] = ids
    if parameters:
        response["parameters"] = parameters
    body = jsonio.encode(response)
    if not buffers:
        return body, {}
    return body + b"".join(buffers), {"Inference-Header-Content-Length": str(len(body))}
