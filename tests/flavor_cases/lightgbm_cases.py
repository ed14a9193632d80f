"""lightgbm cases: string classes through packed preprocessing, native categories, a raw Booster."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np

from tests.data import credit, numeric_classification, numeric_regression
from tests.flavor_cases.base import CaseData, FlavorCase, as_categories, mixed_preprocessor

QUIET = {"verbose": -1}


def _credit_preprocessed(tmp: Path) -> CaseData:
    """Raw mixed rows with NaN → packed ColumnTransformer → classifier on the string classes."""
    x, y = credit(600)
    pre = mixed_preprocessor(x)
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=8, **QUIET).fit(pre.transform(x), y)
    path = tmp / "credit.txt"
    model.booster_.save_model(path)
    # the file holds a bare Booster that knows classes 0, 1 only: labels= names them
    return CaseData(model, x, lambda f: model.predict(pre.transform(f)),
                    lambda f: model.predict_proba(pre.transform(f)), path,
                    {"preprocess": pre, "labels": list(model.classes_), "target": y})


def _booster_categorical(tmp: Path) -> CaseData:
    """A raw Booster on pandas categories with missing values (native categorical support)."""
    x, y = credit(600)
    x = as_categories(x)
    booster = lgb.train({"objective": "binary", "num_leaves": 8, **QUIET},
                        lgb.Dataset(x, (y == "good").astype(int)), num_boost_round=20)
    path = tmp / "booster.txt"
    booster.save_model(path)

    def proba(f: object) -> np.ndarray:
        p = np.asarray(booster.predict(f))
        return np.column_stack([1 - p, p])

    return CaseData(booster, x, lambda f: proba(f).argmax(axis=1), proba, path,
                    {"target": y == "good"})


def _multiclass(tmp: Path) -> CaseData:
    x, y = numeric_classification(300, classes=3)
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=8, **QUIET).fit(x, y)
    path = tmp / "multiclass.txt"
    model.booster_.save_model(path)
    return CaseData(model, x, model.predict, model.predict_proba, path)


def _regressor(tmp: Path) -> CaseData:
    x, y = numeric_regression(300)
    model = lgb.LGBMRegressor(n_estimators=20, num_leaves=8, **QUIET).fit(x, y)
    path = tmp / "regressor.txt"
    model.booster_.save_model(path)
    return CaseData(model, x, model.predict, None, path, {"target": y})


CASES = [
    FlavorCase("lightgbm-credit-preprocessed", "lightgbm", _credit_preprocessed),
    FlavorCase("lightgbm-booster-categorical", "lightgbm", _booster_categorical),
    FlavorCase("lightgbm-multiclass", "lightgbm", _multiclass),
    FlavorCase("lightgbm-regressor", "lightgbm", _regressor),
]
