"""The xgboost flavor: file detection, classes of raw Boosters, importances, the lock's distribution."""

from __future__ import annotations

import json
import logging
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

import modelport
from modelport.artifact.flavors import flavor_for_file
from modelport.artifact.flavors.xgboost import XGBoostFlavor
from modelport.errors import FlavorError
from modelport.inference.reference import read_importances
from tests.data import numeric_classification, numeric_regression

FLAVOR = XGBoostFlavor()


def test_json_files_are_recognised_by_their_content(tmp_path: Path) -> None:
    x, y = numeric_regression(50)
    xgb.XGBRegressor(n_estimators=2).fit(x, y).save_model(tmp_path / "model.json")
    (tmp_path / "other.json").write_text(json.dumps({"learner_rate": 0.1, "learner": {}}))
    assert flavor_for_file(tmp_path / "model.json").name == "xgboost"
    assert not FLAVOR.detect(tmp_path / "other.json")
    with pytest.raises(FlavorError, match="cannot tell the flavor"):
        flavor_for_file(tmp_path / "other.json")


def test_raw_booster_classes_follow_the_objective() -> None:
    x, y = numeric_classification(60, classes=3)
    data = xgb.DMatrix(x, y)
    softmax = xgb.train({"objective": "multi:softmax", "num_class": 3}, data, 2)
    binary = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(x, y > 0), 2)
    margin = xgb.train({"objective": "binary:logitraw"}, xgb.DMatrix(x, y > 0), 2)
    regression = xgb.train({"objective": "reg:squarederror"}, data, 2)
    assert [FLAVOR.classes(b) for b in (softmax, binary, margin, regression)] == [
        [0, 1, 2], [0, 1], None, None]


def test_importances_are_gain_shares_keyed_by_feature_name() -> None:
    x, y = numeric_regression(300)
    shares = FLAVOR.importances(xgb.XGBRegressor(n_estimators=20).fit(x, y))
    assert shares is not None
    assert list(shares) == list(x.columns)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert max(shares, key=shares.__getitem__) == "x1"  # y = 3 x1 - 2 x2 + ...


def test_pack_records_model_importances_and_the_installed_distribution(tmp_path: Path) -> None:
    x, y = numeric_regression(200)
    artifact = modelport.pack(xgb.XGBRegressor(n_estimators=10).fit(x, y), name="r", sample=x,
                              out=tmp_path / "art")
    assert set(read_importances(artifact.path)["model"]) == set(x.columns)
    (distribution,) = FLAVOR.frameworks
    assert artifact.manifest.environment["frameworks"] == {
        distribution: metadata.version(distribution)}


def test_labels_that_do_not_name_the_class_indices_are_refused(tmp_path: Path) -> None:
    x, y = numeric_classification(60)
    model = xgb.XGBClassifier(n_estimators=2).fit(x, y)
    with pytest.raises(FlavorError, match="differ from the model's own classes"):
        modelport.pack(model, name="c", sample=x, labels=["a", "b", "c"], out=tmp_path / "art")


def test_reading_an_early_stopped_file_warns_that_all_rounds_predict(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    x, y = numeric_classification(300)
    model = xgb.XGBClassifier(n_estimators=100, learning_rate=1.0, early_stopping_rounds=2)
    model.fit(x[:200], y[:200], eval_set=[(x[200:], y[200:])], verbose=False)
    assert model.get_booster().num_boosted_rounds() > model.best_iteration + 1
    model.save_model(tmp_path / "stopped.json")
    with caplog.at_level(logging.WARNING, logger="modelport.artifact"):
        booster = FLAVOR.read(tmp_path / "stopped.json", trust_pickle=False)
    assert "early stopping chose" in caplog.text
    assert np.asarray(booster.inplace_predict(x)).shape == (len(x),)  # type: ignore[attr-defined]
