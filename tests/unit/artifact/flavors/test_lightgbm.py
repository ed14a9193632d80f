"""The lightgbm flavor: file detection, objectives under aliases, importances."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import pytest

from modelport.artifact.flavors import flavor_for_file
from modelport.artifact.flavors.lightgbm import LightGBMFlavor
from modelport.errors import FlavorError
from tests.data import numeric_classification, numeric_regression

FLAVOR = LightGBMFlavor()
QUIET = {"verbose": -1}


def test_text_files_are_recognised_by_their_first_line(tmp_path: Path) -> None:
    x, y = numeric_regression(60)
    lgb.LGBMRegressor(n_estimators=2, **QUIET).fit(x, y).booster_.save_model(tmp_path / "m.txt")
    (tmp_path / "notes.txt").write_text("trees I planted\n")
    assert flavor_for_file(tmp_path / "m.txt").name == "lightgbm"
    assert not FLAVOR.detect(tmp_path / "notes.txt")
    with pytest.raises(FlavorError, match="cannot tell the flavor"):
        flavor_for_file(tmp_path / "notes.txt")


def test_raw_booster_classes_follow_the_objective_whatever_its_alias() -> None:
    x, y = numeric_classification(90, classes=3)
    softmax = lgb.train({"objective": "softmax", "num_class": 3, **QUIET}, lgb.Dataset(x, y), 2)
    ova = lgb.train({"application": "ova", "num_class": 3, **QUIET}, lgb.Dataset(x, y), 2)
    binary = lgb.train({"objective": "binary", **QUIET}, lgb.Dataset(x, y > 0), 2)
    regression = lgb.train({"objective": "l2", **QUIET}, lgb.Dataset(x, y), 2)
    assert [FLAVOR.classes(b) for b in (softmax, ova, binary, regression)] == [
        [0, 1, 2], [0, 1, 2], [0, 1], None]


def test_importances_are_gain_shares_keyed_by_feature_name() -> None:
    x, y = numeric_regression(300)
    shares = FLAVOR.importances(lgb.LGBMRegressor(n_estimators=20, **QUIET).fit(x, y))
    assert shares is not None
    assert list(shares) == list(x.columns)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert max(shares, key=shares.__getitem__) == "x1"
