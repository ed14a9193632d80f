"""ONNX graphs run with onnxruntime: skl2onnx classifiers and regressors, and plain networks.

Inputs: a graph with one 2-D tensor input gets the preprocessed features as one matrix of the
input's element type; a graph whose inputs are named like the raw columns (skl2onnx's per-column
inputs for a ColumnTransformer) gets each column as an (n, 1) array of its declared type.
Outputs: a label output followed by a probability output (a tensor, or ZipMap's sequence of maps)
is a classifier; otherwise the first output holds the values (a regressor's numbers, or a
network's class scores that ``pack`` decides are probabilities or logits).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelport.artifact.flavors.base import RawOutputs, require
from modelport.errors import FlavorError

MODEL_FILE = "model.onnx"
_ELEMENT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int16)": np.int16,
    "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}
_CLASS_LABEL_ATTRIBUTES = ("classlabels_strings", "classlabels_int64s", "classlabels_ints")


@dataclass(frozen=True)
class OnnxModel:
    """An ONNX graph ready to run: an onnxruntime session, and the graph's bytes when packing."""

    session: Any
    data: bytes | None = None


def session_from_bytes(data: bytes) -> Any:
    ort = require("onnxruntime", "onnx")
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def _serialized(model: object) -> bytes:
    """The graph bytes of a ModelProto, raw bytes, an OnnxModel, or an InferenceSession."""
    if isinstance(model, OnnxModel):
        return model.data if model.data is not None else _serialized(model.session)
    if isinstance(model, bytes):
        return model
    if type(model).__name__ == "ModelProto":
        return bytes(model.SerializeToString())  # type: ignore[attr-defined]
    # onnxruntime has no public accessor for the graph a session was built from, only these
    data = getattr(model, "_model_bytes", None)
    path = getattr(model, "_model_path", None)
    if isinstance(data, bytes):
        return data
    if isinstance(path, str):
        return Path(path).read_bytes()
    raise FlavorError(f"cannot read the ONNX graph back from a {type(model).__name__}; "
                      "pack the onnx.ModelProto or the .onnx file instead")


def _element_type(arg: Any) -> Any:
    try:
        return _ELEMENT_TYPES[arg.type]
    except KeyError:
        raise FlavorError(f"ONNX input {arg.name!r} has type {arg.type}, which modelport "
                          "cannot feed") from None


def _width(arg: Any) -> int | None:
    shape = arg.shape
    return shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None


def _column(values: Any, dtype: Any) -> np.ndarray:
    column = np.asarray(values, dtype=object if dtype is np.object_ else dtype)
    return column.reshape(-1, 1)


def feeds(inputs: Sequence[Any], features: Any) -> dict[str, np.ndarray]:
    """Map preprocessed features onto the graph's inputs (see the module docstring)."""
    columns = [str(c) for c in getattr(features, "columns", [])]
    names = [arg.name for arg in inputs]
    if columns and set(names) <= set(columns) and (len(inputs) > 1 or _width(inputs[0]) == 1):
        return {arg.name: _column(features[arg.name], _element_type(arg)) for arg in inputs}
    if len(inputs) != 1:
        missing = sorted(set(names) - set(columns))
        raise FlavorError(f"the ONNX graph takes inputs {names}; the features lack {missing}")
    values = features.to_numpy() if hasattr(features, "to_numpy") else features
    return {names[0]: np.ascontiguousarray(np.asarray(values, dtype=_element_type(inputs[0])))}


def _probabilities(value: Any) -> np.ndarray:
    """A probability output as an (n, k) matrix; ZipMap gives a list of {class: probability}."""
    if isinstance(value, list):
        if not value:
            return np.zeros((0, 0))
        keys = list(value[0])
        return np.array([[row[k] for k in keys] for row in value], dtype=float)
    return np.asarray(value, dtype=float)


def _is_classifier(outputs: Sequence[Any]) -> bool:
    if len(outputs) < 2:
        return False
    label, proba = outputs[0].type, outputs[1].type
    labelled = label in ("tensor(int64)", "tensor(string)", "tensor(int32)")
    scored = proba.startswith("seq(map(") or proba in ("tensor(float)", "tensor(double)")
    return labelled and scored


def class_labels(data: bytes) -> list[Any] | None:
    """Class labels stored in the graph's ai.onnx.ml classifier or ZipMap node, if any."""
    onnx = require("onnx", "onnx")
    graph = onnx.load_model_from_string(data).graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.name in _CLASS_LABEL_ATTRIBUTES:
                if attribute.name == "classlabels_strings":
                    return [s.decode("utf-8") for s in attribute.strings]
                return [int(i) for i in attribute.ints]
    return None


class OnnxFlavor:
    name = "onnx"
    frameworks: tuple[str, ...] = ("onnxruntime",)
    #: graphs compute in float32, and converted models are compared with float64 originals
    tolerance = 1e-4
    suffixes: tuple[str, ...] = (".onnx",)

    def handles(self, model: object) -> bool:
        if isinstance(model, OnnxModel):
            return True
        module, name = type(model).__module__, type(model).__name__
        return ((module.startswith("onnx.") and name == "ModelProto")
                or (module.startswith("onnxruntime.") and name == "InferenceSession"))

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        data = path.read_bytes()
        return OnnxModel(session_from_bytes(data), data)

    def prepare(self, model: object, example: Any) -> OnnxModel:
        if isinstance(model, OnnxModel) and model.data is not None:
            return model
        data = _serialized(model)
        return OnnxModel(session_from_bytes(data), data)

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        target = directory / MODEL_FILE
        if source is not None:
            shutil.copyfile(source, target)
        else:
            target.write_bytes(_serialized(model))
        return {"file": MODEL_FILE}

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        return OnnxModel(session_from_bytes((directory / str(meta["file"])).read_bytes()))

    def run(self, model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        ready = model if isinstance(model, OnnxModel) else self.prepare(model, None)
        session = ready.session
        outputs = session.get_outputs()
        fed = feeds(session.get_inputs(), features)
        if _is_classifier(outputs):
            wanted = [o.name for o in outputs[:2 if proba else 1]]
            results = session.run(wanted, fed)
            probabilities = _probabilities(results[1]) if proba else None
            return RawOutputs(np.asarray(results[0]).reshape(-1), probabilities)
        (values,) = session.run([outputs[0].name], fed)
        return RawOutputs(np.asarray(values))

    def classes(self, model: object) -> list[Any] | None:
        return class_labels(_serialized(model))

    def modules(self, model: object) -> set[str]:
        return {"onnxruntime"}
