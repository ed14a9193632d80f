"""The onnx flavor: which outputs make a classifier, how inputs are fed, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import modelport
from modelport.artifact.flavors.onnx import OnnxFlavor
from modelport.errors import FlavorError
from tests.flavor_cases.onnx_cases import _network_logits, _per_column_classifier


def test_classifier_labels_come_from_the_graph(tmp_path: Path) -> None:
    data = _per_column_classifier(tmp_path)
    assert OnnxFlavor().classes(data.model) == [0, 1, 2]


def test_network_scores_are_decided_to_be_logits(tmp_path: Path) -> None:
    data = _network_logits(tmp_path)
    artifact = modelport.pack(data.model, name="n", sample=data.sample, out=tmp_path / "a",
                              **data.pack_kwargs)
    manifest = json.loads((artifact.path / "manifest.json").read_text())
    assert manifest["flavor"] == "onnx"
    assert manifest["flavor_meta"]["scores"] == "logits"
    assert manifest["labels"] == ["low", "mid", "high"]


def test_inference_session_from_a_file_is_packed(tmp_path: Path) -> None:
    import onnxruntime as ort

    data = _network_logits(tmp_path)
    assert data.model_file is not None
    session = ort.InferenceSession(str(data.model_file), providers=["CPUExecutionProvider"])
    artifact = modelport.pack(session, name="s", sample=data.sample, out=tmp_path / "a",
                              **data.pack_kwargs)
    assert (artifact.path / "model" / "model.onnx").read_bytes() == data.model_file.read_bytes()
    rows = data.sample.head(6)
    assert artifact.load().predict(rows).tolist() == data.expected(rows).tolist()


def test_per_column_graph_refuses_features_without_its_columns(tmp_path: Path) -> None:
    data = _per_column_classifier(tmp_path)
    flavor = OnnxFlavor()
    model = flavor.prepare(data.model, None)
    renamed = data.sample.rename(columns={"x2": "other"})
    with pytest.raises(FlavorError, match=r"lack \['x2'\]"):
        flavor.run(model, renamed, {}, proba=True)
