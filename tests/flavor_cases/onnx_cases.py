"""ONNX cases: skl2onnx conversions (per-column and matrix inputs, with and without ZipMap) and a
hand-built network whose logits pack must turn into probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tests.data import numeric_classification, numeric_regression
from tests.flavor_cases.base import CaseData, FlavorCase

#: float32 graphs against float64 sklearn
ATOL = 1e-4


def _write(model: Any, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def _per_column_classifier(tmp: Path) -> CaseData:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    x, y = numeric_classification(300, classes=3)
    columns = list(x.columns)
    pipe = Pipeline([("pre", ColumnTransformer([("scale", StandardScaler(), columns)])),
                     ("clf", LogisticRegression())]).fit(x, y)
    graph = convert_sklearn(pipe, initial_types=[(c, FloatTensorType([None, 1])) for c in columns])
    return CaseData(graph, x, pipe.predict, pipe.predict_proba,
                    _write(graph, tmp / "classifier.onnx"), {"target": y}, atol=ATOL)


def _matrix_classifier_without_zipmap(tmp: Path) -> CaseData:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    x, y = numeric_classification(300, classes=2, seed=1)
    labels = np.where(y == 1, "yes", "no")
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    model.fit(x.to_numpy(), labels)
    graph = convert_sklearn(model, initial_types=[("features", FloatTensorType([None, 4]))],
                            options={LogisticRegression: {"zipmap": False}})
    return CaseData(graph, x, lambda f: model.predict(f.to_numpy()),
                    lambda f: model.predict_proba(f.to_numpy()),
                    _write(graph, tmp / "binary.onnx"), atol=ATOL)


def _regressor(tmp: Path) -> CaseData:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    x, y = numeric_regression(300)
    model = Pipeline([("scale", StandardScaler()), ("reg", Ridge())]).fit(x.to_numpy(), y)
    graph = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 4]))])
    return CaseData(graph, x, lambda f: model.predict(f.to_numpy()), None,
                    _write(graph, tmp / "regressor.onnx"), atol=ATOL)


def _softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def _network_logits(tmp: Path) -> CaseData:
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    weights = rng.normal(size=(4, 3)).astype(np.float32)
    bias = np.array([0.5, -0.25, 0.0], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]),
         helper.make_node("Add", ["xw", "b"], ["logits"])],
        "linear-logits",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x, _ = numeric_classification(200, classes=3, seed=2)
    labels = ["low", "mid", "high"]

    def logits(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame.to_numpy(np.float32) @ weights + bias, dtype=float)

    return CaseData(model, x, lambda f: np.array(labels)[logits(f).argmax(axis=1)],
                    lambda f: _softmax(logits(f)), _write(model, tmp / "network.onnx"),
                    {"labels": labels}, atol=ATOL)


CASES = [
    FlavorCase("onnx-skl2onnx-per-column-classifier", "onnx", _per_column_classifier),
    FlavorCase("onnx-skl2onnx-binary-no-zipmap", "onnx", _matrix_classifier_without_zipmap),
    FlavorCase("onnx-skl2onnx-regressor", "onnx", _regressor),
    FlavorCase("onnx-network-logits", "onnx", _network_logits),
]
