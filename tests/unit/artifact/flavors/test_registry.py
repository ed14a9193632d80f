"""Flavor registry: boosters' sklearn wrappers are claimed before sklearn; heavy imports stay lazy."""

from __future__ import annotations

import lightgbm as lgb
import xgboost as xgb
from sklearn.linear_model import LinearRegression

from modelport.artifact.flavors import flavor_for_model
from tests.data import numeric_classification


def test_wrappers_are_claimed_before_sklearn() -> None:
    x, y = numeric_classification(60)
    found = {
        "xgb-classifier": flavor_for_model(xgb.XGBClassifier(n_estimators=2).fit(x, y)).name,
        "xgb-regressor": flavor_for_model(xgb.XGBRegressor(n_estimators=2).fit(x, y)).name,
        "lgb-classifier": flavor_for_model(
            lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(x, y)).name,
        "lgb-regressor": flavor_for_model(
            lgb.LGBMRegressor(n_estimators=2, verbose=-1).fit(x, y)).name,
        "sklearn": flavor_for_model(LinearRegression().fit(x, y)).name,
    }
    assert found == {"xgb-classifier": "xgboost", "xgb-regressor": "xgboost",
                     "lgb-classifier": "lightgbm", "lgb-regressor": "lightgbm",
                     "sklearn": "sklearn"}
