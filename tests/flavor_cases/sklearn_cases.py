"""sklearn cases: a ColumnTransformer Pipeline classifier on mixed data, and a plain regressor."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from tests.artifacts import credit_pipeline
from tests.data import numeric_regression
from tests.flavor_cases.base import CaseData, FlavorCase


def _pipeline(tmp: Path) -> CaseData:
    model, x, y = credit_pipeline(600)
    path = tmp / "pipeline.skops"
    sio.dump(model, path)
    return CaseData(model, x, model.predict, model.predict_proba, path, {"target": y})


def _regressor(tmp: Path) -> CaseData:
    x, y = numeric_regression(300)
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(x, y)
    path = tmp / "forest.joblib"
    joblib.dump(model, path)
    return CaseData(model, x, model.predict, None, path, {"trust_pickle": True})


def _labels_from_numpy(tmp: Path) -> CaseData:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    y = np.where(x["a"] + x["b"] > 0, "yes", "no")
    model = LogisticRegression().fit(x.to_numpy(), y)  # fitted without feature names
    return CaseData(model, x, lambda f: model.predict(f.to_numpy()),
                    lambda f: model.predict_proba(f.to_numpy()))


CASES = [
    FlavorCase("sklearn-pipeline-classifier", "sklearn", _pipeline),
    FlavorCase("sklearn-forest-regressor-pickle", "sklearn", _regressor),
    FlavorCase("sklearn-array-fitted", "sklearn", _labels_from_numpy),
]
