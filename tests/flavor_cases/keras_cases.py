"""Keras cases (torch backend): a softmax classifier behind a packed StandardScaler, saved as
.keras, and a regressor saved as legacy HDF5 .h5."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from modelport.artifact.flavors.keras import import_keras
from tests.data import numeric_classification, numeric_regression
from tests.flavor_cases.base import CaseData, FlavorCase

LABELS = ["a", "b", "c"]
EPOCHS = 3


def _network(outputs: int, activation: str | None, loss: str) -> Any:
    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(outputs, activation=activation)])
    model.compile(optimizer="adam", loss=loss)
    return model


@cache
def _trained_classifier() -> tuple[Any, StandardScaler, pd.DataFrame]:
    x, y = numeric_classification(300, classes=3)
    scaler = StandardScaler().fit(x)
    model = _network(3, "softmax", "sparse_categorical_crossentropy")
    model.fit(scaler.transform(x), y.to_numpy(), epochs=EPOCHS, batch_size=64, verbose=0)
    return model, scaler, x


@cache
def _trained_regressor() -> tuple[Any, pd.DataFrame]:
    x, y = numeric_regression(300)
    model = _network(1, None, "mse")
    model.fit(x.to_numpy(), y.to_numpy(), epochs=EPOCHS, batch_size=64, verbose=0)
    return model, x


def _classifier(tmp: Path) -> CaseData:
    model, scaler, x = _trained_classifier()
    path = tmp / "classifier.keras"
    model.save(path)

    def proba(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict(scaler.transform(frame), verbose=0), dtype=float)

    return CaseData(model, x, lambda f: np.array(LABELS)[proba(f).argmax(axis=1)], proba, path,
                    {"labels": LABELS, "preprocess": scaler}, atol=1e-5)


def _regressor_h5(tmp: Path) -> CaseData:
    model, x = _trained_regressor()
    path = tmp / "regressor.h5"
    model.save(path)  # Keras 3 still writes legacy HDF5 when the name ends in .h5
    return CaseData(model, x, lambda f: model.predict(f.to_numpy(), verbose=0)[:, 0], None, path,
                    atol=1e-5)


CASES = [
    FlavorCase("keras-softmax-classifier-scaler", "keras", _classifier),
    FlavorCase("keras-regressor-h5", "keras", _regressor_h5),
]
