"""``modelport import mlflow``: MLflow sklearn folders become verified, registered artifacts."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
import yaml
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import modelport
from modelport.cli.main import app
from modelport.errors import (
    ArtifactFormatError,
    EnvironmentMismatchError,
    FlavorError,
    SchemaError,
    UnsafeArtifactError,
)
from modelport.inference.mlflow_import import import_mlflow
from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.data import numeric_classification, numeric_regression
from tests.integration.registry.mlflow_folders import column_specs, tensor_spec, write_mlflow_folder

runner = CliRunner()


@pytest.fixture(scope="module")
def classifier() -> tuple[LogisticRegression, pd.DataFrame]:
    x, y = numeric_classification(150)
    return LogisticRegression().fit(x, y), x


@pytest.fixture(scope="module")
def regressor() -> tuple[RandomForestRegressor, np.ndarray]:
    x, y = numeric_regression(120)
    array = x.to_numpy()
    return RandomForestRegressor(n_estimators=5, random_state=0).fit(array, y), array


def _stderr(result: Any) -> str:
    return " ".join(result.stderr.split())


def test_cli_imports_and_registers_a_cloudpickled_model(
        cli_env: str, classifier: tuple[LogisticRegression, pd.DataFrame], tmp_path: Path) -> None:
    model, x = classifier
    folder = write_mlflow_folder(tmp_path / "mlflow-model", model, example=x.head(30),
                                 inputs=column_specs(x))
    args = ["import", "mlflow", str(folder), "--name", "churn"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 4
    assert "model.pkl is a cloudpickle file" in _stderr(refused)
    result = runner.invoke(app, [*args, "--trust-pickle", "--alias", "candidate", "--reason", "port"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "churn:1\n"
    with Registry(Settings.from_env().registry_config()) as registry:
        assert registry.aliases_of("churn") == {"candidate": 1}
        tags = registry.list_versions("churn")[0].tags
        assert tags["imported_from"] == "mlflow"
        assert tags["mlflow_serialization"] == "cloudpickle"
        loaded = modelport.load("churn@candidate", using=registry)
    rows = x.iloc[::9]
    np.testing.assert_array_equal(loaded.predict(rows), model.predict(rows))
    np.testing.assert_allclose(loaded.predict_proba(rows), model.predict_proba(rows), atol=1e-9)


def test_a_pickle_needs_trust_and_a_skops_file_does_not(
        classifier: tuple[LogisticRegression, pd.DataFrame], tmp_path: Path) -> None:
    model, x = classifier
    pickled = write_mlflow_folder(tmp_path / "p", model, serialization="pickle", example=x.head(20))
    with pytest.raises(UnsafeArtifactError, match="pickle file, which runs code"):
        import_mlflow(pickled, name="m", out=tmp_path / "out-p")
    assert not (tmp_path / "out-p").exists()
    skops = write_mlflow_folder(tmp_path / "s", model, serialization="skops", example=x.head(20))
    artifact = import_mlflow(skops, name="m", out=tmp_path / "out-s")
    assert artifact.manifest.flavor_meta["serialization"] == "skops"
    assert artifact.manifest.lineage["tags"]["mlflow_mlflow_version"] == "3.17.2"


def test_the_signature_types_decide_the_sample_types(
        classifier: tuple[LogisticRegression, pd.DataFrame], tmp_path: Path) -> None:
    model, x = classifier
    specs = column_specs(x)
    specs[3]["required"] = False
    whole = x.round(0).astype("int64")  # an example JSON would hold whole numbers as ints
    folder = write_mlflow_folder(tmp_path / "m", model, example=whole.head(20), inputs=specs)
    signature = import_mlflow(folder, name="m", out=tmp_path / "out", trust_pickle=True
                              ).manifest.signature
    assert [c.kind.value for c in signature.inputs] == ["float"] * 4
    assert [c.nullable for c in signature.inputs] == [False, False, False, True]


def test_a_tensor_signature_and_an_ndarray_example(
        regressor: tuple[RandomForestRegressor, np.ndarray], tmp_path: Path) -> None:
    model, array = regressor
    folder = write_mlflow_folder(tmp_path / "m", model, example=array[:25],
                                 inputs=tensor_spec(array))
    artifact = import_mlflow(folder, name="forest", out=tmp_path / "out", trust_pickle=True)
    assert artifact.manifest.task == "regression"
    loaded = modelport.load(artifact.path)
    np.testing.assert_allclose(loaded.predict(array[:7]), model.predict(array[:7]))


def test_without_an_example_the_sample_is_required(
        classifier: tuple[LogisticRegression, pd.DataFrame], tmp_path: Path) -> None:
    model, x = classifier
    folder = write_mlflow_folder(tmp_path / "m", model, inputs=column_specs(x))
    with pytest.raises(ArtifactFormatError, match=r"no input example; pass a sample"):
        import_mlflow(folder, name="m", out=tmp_path / "out", trust_pickle=True)
    with pytest.raises(SchemaError, match="x4: is in the MLflow signature but not in the sample"):
        import_mlflow(folder, name="m", out=tmp_path / "out", trust_pickle=True,
                      sample=x.drop(columns=["x4"]))
    artifact = import_mlflow(folder, name="m", out=tmp_path / "out", trust_pickle=True,
                             sample=x.assign(extra=1.0))
    assert artifact.manifest.signature.names == ["x1", "x2", "x3", "x4"]


def test_another_scikit_learn_version_is_refused_unless_allowed(
        classifier: tuple[LogisticRegression, pd.DataFrame], tmp_path: Path) -> None:
    model, x = classifier
    folder = write_mlflow_folder(tmp_path / "m", model, example=x.head(20), sklearn_version="0.24.2")
    with pytest.raises(EnvironmentMismatchError, match="scikit-learn==0.24.2 in the MLflow model"):
        import_mlflow(folder, name="m", out=tmp_path / "out", trust_pickle=True)
    artifact = import_mlflow(folder, name="m", out=tmp_path / "out", trust_pickle=True,
                             allow_env_mismatch=True)
    assert artifact.manifest.flavor == "sklearn"


def test_folders_that_are_not_mlflow_sklearn_models_are_named(
        classifier: tuple[LogisticRegression, pd.DataFrame], tmp_path: Path) -> None:
    with pytest.raises(ArtifactFormatError, match="has no MLmodel file"):
        import_mlflow(tmp_path, name="m", out=tmp_path / "out")
    folder = write_mlflow_folder(tmp_path / "m", classifier[0], example=classifier[1].head(5))
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    del mlmodel["flavors"]["sklearn"]
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(FlavorError, match=r"holds no sklearn flavor \(it has \['python_function'\]\)"):
        import_mlflow(folder, name="m", out=tmp_path / "out")
    result = runner.invoke(app, ["import", "mlflow", str(tmp_path / "nowhere"), "--name", "m"])
    assert result.exit_code == 2
    assert "no MLmodel file" in _stderr(result)


# -- against MLflow itself -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_mlflow_folders(classifier: tuple[LogisticRegression, pd.DataFrame],
                        regressor: tuple[RandomForestRegressor, np.ndarray],
                        tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    from mlflow.models import infer_signature

    root = tmp_path_factory.mktemp("real-mlflow")
    model, x = classifier
    forest, array = regressor
    pins = [f"scikit-learn=={sklearn.__version__}"]
    with warnings.catch_warnings():  # MLflow warns about its own type-hint inference
        warnings.simplefilter("ignore", UserWarning)
        mlflow_sklearn.save_model(model, root / "skops", serialization_format="skops",
                                  signature=infer_signature(x, model.predict(x)),
                                  input_example=x.head(10), pip_requirements=pins)
        mlflow_sklearn.save_model(forest, root / "cloudpickle", serialization_format="cloudpickle",
                                  input_example=array[:10], pip_requirements=pins)
    return {"skops": root / "skops", "cloudpickle": root / "cloudpickle"}


def _shape(value: Any) -> Any:
    """Keys of nested dicts (values dropped), to compare layouts."""
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else None


def test_folders_written_by_mlflow_import(real_mlflow_folders: dict[str, Path],
                                          classifier: tuple[LogisticRegression, pd.DataFrame],
                                          regressor: tuple[RandomForestRegressor, np.ndarray],
                                          tmp_path: Path) -> None:
    model, x = classifier
    artifact = import_mlflow(real_mlflow_folders["skops"], name="clf", out=tmp_path / "a")
    loaded = modelport.load(artifact.path)
    np.testing.assert_array_equal(loaded.predict(x.head(20)), model.predict(x.head(20)))
    assert [c.name for c in artifact.manifest.signature.inputs] == list(x.columns)
    forest, array = regressor
    with pytest.raises(UnsafeArtifactError):
        import_mlflow(real_mlflow_folders["cloudpickle"], name="forest", out=tmp_path / "b")
    artifact = import_mlflow(real_mlflow_folders["cloudpickle"], name="forest",
                             out=tmp_path / "b", trust_pickle=True)
    np.testing.assert_allclose(modelport.load(artifact.path).predict(array[:9]),
                               forest.predict(array[:9]))


def test_the_fixture_writer_lays_folders_out_as_mlflow_does(
        real_mlflow_folders: dict[str, Path], classifier: tuple[LogisticRegression, pd.DataFrame],
        tmp_path: Path) -> None:
    model, x = classifier
    ours = write_mlflow_folder(tmp_path / "ours", model, serialization="skops", example=x.head(10),
                               inputs=column_specs(x))
    theirs = real_mlflow_folders["skops"]
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
    ours_mlmodel = yaml.safe_load((ours / "MLmodel").read_text())
    theirs_mlmodel = yaml.safe_load((theirs / "MLmodel").read_text())
    assert _shape(ours_mlmodel) == _shape(theirs_mlmodel)
    assert json.loads(ours_mlmodel["signature"]["inputs"]) == json.loads(
        theirs_mlmodel["signature"]["inputs"])
    assert json.loads((ours / "input_example.json").read_text()).keys() == json.loads(
        (theirs / "input_example.json").read_text()).keys()
