"""xgboost cases: string labels through packed preprocessing, native categories, a raw Booster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xgboost as xgb

from tests.data import credit, numeric_classification, numeric_regression
from tests.flavor_cases.base import (
    CaseData,
    FlavorCase,
    as_categories,
    class_names,
    mixed_preprocessor,
)


def _credit_preprocessed(tmp: Path) -> CaseData:
    """Raw mixed rows with NaN → packed ColumnTransformer → classifier on codes named by labels=."""
    x, y = credit(600)
    pre = mixed_preprocessor(x)
    names, codes = class_names(y)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(pre.transform(x), codes)
    path = tmp / "credit.json"
    model.save_model(path)
    return CaseData(model, x, lambda f: names[model.predict(pre.transform(f))],
                    lambda f: model.predict_proba(pre.transform(f)), path,
                    {"preprocess": pre, "labels": list(names), "target": y})


def _credit_categorical(tmp: Path) -> CaseData:
    """Native categorical support: pandas categories with missing values go straight in."""
    x, y = credit(600)
    x = as_categories(x)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, enable_categorical=True)
    model.fit(x, (y == "good").astype(int))
    path = tmp / "credit.ubj"
    model.save_model(path)
    return CaseData(model, x, model.predict, model.predict_proba, path)


def _booster_multiclass(tmp: Path) -> CaseData:
    x, y = numeric_classification(300, classes=3)
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3},
                        xgb.DMatrix(x, y), num_boost_round=10)
    path = tmp / "booster.json"
    booster.save_model(path)

    def proba(f: object) -> np.ndarray:
        return np.asarray(booster.predict(xgb.DMatrix(f)))

    return CaseData(booster, x, lambda f: proba(f).argmax(axis=1), proba, path)


def _softmax_labels(tmp: Path) -> CaseData:
    """multi:softmax predicts class indices only; labels= names them."""
    x, y = numeric_classification(300, classes=3)
    model = xgb.XGBClassifier(n_estimators=10, objective="multi:softmax").fit(x, y)
    names = np.array(["low", "mid", "high"])
    return CaseData(model, x, lambda f: names[model.predict(f)],
                    pack_kwargs={"labels": list(names)})


def _regressor(tmp: Path) -> CaseData:
    x, y = numeric_regression(300)
    model = xgb.XGBRegressor(n_estimators=20, max_depth=3).fit(x, y)
    path = tmp / "regressor.json"
    model.save_model(path)
    return CaseData(model, x, model.predict, None, path, {"target": y}, atol=1e-5)


CASES = [
    FlavorCase("xgboost-credit-preprocessed-labels", "xgboost", _credit_preprocessed),
    FlavorCase("xgboost-credit-categorical", "xgboost", _credit_categorical),
    FlavorCase("xgboost-booster-multiclass", "xgboost", _booster_multiclass),
    FlavorCase("xgboost-softmax-labels", "xgboost", _softmax_labels),
    FlavorCase("xgboost-regressor", "xgboost", _regressor),
]
