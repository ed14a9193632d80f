"""What pack writes besides the model: reference sample, importances, lineage, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import modelport
from modelport.errors import ArtifactFormatError, FlavorError, SchemaError
from tests.artifacts import small_classifier
from tests.data import numeric_classification


def test_reference_sample_holds_inputs_outputs_and_target(tmp_path: Path) -> None:
    x, y = numeric_classification(150)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    artifact = modelport.pack(model, name="rf", sample=x.assign(y=y), label_column="y", out=tmp_path / "a")
    sample = pd.read_parquet(artifact.path / "reference" / "sample.parquet")
    assert list(sample.columns) == [*x.columns, "__prediction__", "__proba__0", "__proba__1", "__target__"]
    assert sample["__target__"].tolist() == y.tolist()
    assert sample["__prediction__"].tolist() == model.predict(x).tolist()
    importances = json.loads((artifact.path / "reference" / "importances.json").read_text())
    exposed = dict(zip(x.columns, model.feature_importances_, strict=True))
    assert importances["model"] == pytest.approx(exposed)
    assert set(importances["permutation"]) == set(x.columns)
    assert max(importances["permutation"], key=importances["permutation"].get) in {"x1", "x3"}
    assert artifact.manifest.lineage["sample_rows"] == 150
    assert len(artifact.manifest.lineage["sample_sha256"]) == 64


def test_same_inputs_give_the_same_artifact_id_and_tar(tmp_path: Path) -> None:
    first, _ = small_classifier(tmp_path / "a", tar=True)
    second, _ = small_classifier(tmp_path / "b", tar=True)
    assert first.digest == second.digest
    assert first.tar_path is not None
    assert second.tar_path is not None
    assert first.tar_path.read_bytes() == second.tar_path.read_bytes()
    assert modelport.load(first.tar_path).digest == first.digest


def test_refusals_leave_nothing_behind(tmp_path: Path) -> None:
    x, y = numeric_classification(50)
    model = RandomForestClassifier(n_estimators=2).fit(x, y)
    with pytest.raises(ArtifactFormatError, match="invalid model name"):
        modelport.pack(model, name="../up", sample=x, out=tmp_path / "a")
    with pytest.raises(SchemaError, match="label column"):
        modelport.pack(model, name="m", sample=x, label_column="nope", out=tmp_path / "a")
    with pytest.raises(FlavorError, match="differ from the model's own classes"):
        modelport.pack(model, name="m", sample=x, labels=["a", "b", "c"], out=tmp_path / "a")
    with pytest.raises(FlavorError, match="no flavor handles"):
        modelport.pack(object(), name="m", sample=x, out=tmp_path / "a")
    assert list(tmp_path.iterdir()) == []
    modelport.pack(model, name="m", sample=x, out=tmp_path / "a")
    with pytest.raises(ArtifactFormatError, match="not empty"):
        modelport.pack(model, name="m", sample=x, out=tmp_path / "a")


def test_labels_from_probabilities_only_when_they_agree_on_the_whole_sample(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import FixedThresholdClassifier

    x, y = numeric_classification(150)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    one_pass = modelport.pack(forest, name="rf", sample=x, out=tmp_path / "rf")
    assert one_pass.manifest.flavor_meta["labels_from_probabilities"] is True
    loaded = one_pass.load()
    assert loaded.predict_detailed(x, proba=True).values.tolist() == forest.predict(x).tolist()
    # A decision threshold other than 0.5: predict disagrees with the argmax, so two passes stay.
    thresholded = FixedThresholdClassifier(LogisticRegression(), threshold=0.8).fit(x, y)
    proba = thresholded.predict_proba(x)
    assert (thresholded.predict(x) != thresholded.classes_[proba.argmax(axis=1)]).any()
    two_pass = modelport.pack(thresholded, name="t", sample=x, out=tmp_path / "t")
    assert "labels_from_probabilities" not in two_pass.manifest.flavor_meta
    assert two_pass.load().predict_detailed(x, proba=True).values.tolist() == thresholded.predict(x).tolist()
