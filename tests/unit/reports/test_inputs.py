"""The reference sample split by role, and the predictions frame checked against its contract."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

import modelport
from modelport.errors import ArtifactFormatError, SchemaError
from modelport.reports import Reference, build_report, load_reference
from modelport.reports.inputs import check_predictions, conform, hashed, inputs, labels, outputs, succeeded
from tests.artifacts import resign
from tests.prediction_logs import credit_halves


def test_the_reference_sample_is_split_into_inputs_outputs_and_target(reference: Reference) -> None:
    x, y, _, _ = credit_halves()
    assert reference.task == "classification"
    assert reference.classes == ("bad", "good")
    assert list(reference.inputs.columns) == list(x.columns) == reference.features
    pd.testing.assert_frame_equal(reference.inputs.fillna(-1), x.fillna(-1))  # Parquet reads None for NaN
    assert list(reference.outputs.columns) == ["prediction", "proba.bad", "proba.good"]
    assert reference.target is not None
    assert reference.target.tolist() == y.tolist()
    assert set(reference.importances) == {"model", "permutation"}
    assert reference.labelled["label"].tolist() == y.tolist()
    assert reference.version == "credit:1"


def test_an_artifact_without_a_reference_sample_is_refused(packed: modelport.Artifact,
                                                           tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(packed.path, copy)
    (copy / "reference" / "sample.parquet").unlink()
    resign(copy)
    with pytest.raises(ArtifactFormatError, match="no reference sample"):
        load_reference(copy)


def test_the_predictions_frame_contract(steady_log: pd.DataFrame) -> None:
    with pytest.raises(SchemaError) as caught:
        check_predictions(steady_log.drop(columns=["status", "prediction"]))
    assert [p.field for p in caught.value.problems] == ["status", "prediction"]
    with pytest.raises(SchemaError, match="timestamps"):
        check_predictions(steady_log.assign(time=steady_log["time"].astype(str)))
    rows = steady_log.head(4).assign(status=[200, 204, 422, 500])
    assert len(succeeded(rows)) == 2
    assert list(inputs(rows, ["Age", "Home", "Nope"]).columns) == ["Age", "Home"]
    assert list(outputs(rows, ["proba.good", "proba.other"]).columns) == ["prediction", "proba.good"]
    assert labels(rows.drop(columns=["label"])).isna().all()


def test_labels_read_back_as_text_get_the_reference_classes(reference: Reference) -> None:
    from dataclasses import replace

    numeric = replace(reference, classes=(0, 1))
    frame = pd.DataFrame({"prediction": [0, 1, 1], "label": ["1", None, "0"]})
    fixed = conform(frame, numeric)
    assert fixed["label"].tolist() == [1, None, 0]
    assert fixed["prediction"].tolist() == [0, 1, 1]
    same = pd.DataFrame({"prediction": ["good", "bad"], "label": ["bad", None]})
    assert conform(same, reference) is same  # nothing to change, no copy


def test_columns_the_log_stored_as_digests_are_recognised(reference: Reference,
                                                          steady_log: pd.DataFrame) -> None:
    digest = hashlib.sha256(b"salt" + b"owner").hexdigest()
    frame = steady_log.assign(**{"input.Home": digest, "input.Job": None})
    assert hashed(frame, reference) == ["Home"]
    assert hashed(steady_log, reference) == []


def test_a_report_leaves_hashed_columns_unmonitored(reference: Reference, steady_log: pd.DataFrame) -> None:
    codes = steady_log["input.Home"].map(lambda v: hashlib.sha256(str(v).encode()).hexdigest())
    report = build_report(reference, steady_log.assign(**{"input.Home": codes}), window="1d")
    assert "Home" not in [t.name for t in report.features]
    assert report.alerts == ()
    assert any("Stored as digests" in note and "Home" in note for note in report.notes)
