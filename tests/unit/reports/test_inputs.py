"""The reference sample split by role, and the predictions frame checked against its contract."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import modelport
from modelport.errors import ArtifactFormatError, SchemaError
from modelport.reports import Reference, load_reference
from modelport.reports.inputs import check_predictions, inputs, labels, outputs, succeeded
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
