"""Permutation importance of raw input columns through any predict function: the one computation the
artifact's reference importances and the monitoring's window importances share, so that they compare
like with like (same row choice, repeats and seeds)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: a model as permutation importance needs it: raw input frame → predicted labels or values
Predict = Callable[[pd.DataFrame], np.ndarray]
#: ground truth, one per row
Labels = Sequence[Any] | pd.Series | np.ndarray


def choose_rows(rows: int, limit: int, seed: int) -> np.ndarray:
    """Positions of a seeded random subset of ``limit`` rows, in order (all rows when fewer)."""
    if rows <= limit:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))


class _Scorer:
    """What scikit-learn's ``permutation_importance`` needs from an estimator: a predict over the raw
    input frame (the whole path, preprocessing included, not the model's encoded columns)."""

    def __init__(self, predict: Predict) -> None:
        self.call = predict

    def fit(self, *_: object) -> _Scorer:
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.call(frame.reset_index(drop=True)))


def permutation_importances(predict: Predict, inputs: pd.DataFrame, target: Labels, *, task: str,
                            rows: int, repeats: int, row_seed: int, shuffle_seed: int,
                            columns: Sequence[str] | None = None) -> dict[str, float]:
    """Mean drop in accuracy (``task="classification"``) or R² (otherwise) when each of ``columns``
    (default: all) is shuffled, over at most ``rows`` seeded rows and ``repeats`` shuffles."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import accuracy_score, r2_score

    picked = choose_rows(len(inputs), rows, row_seed)
    x = inputs.iloc[picked].reset_index(drop=True)
    y = pd.Series(np.asarray(target)[picked])
    metric = accuracy_score if task == "classification" else r2_score
    names = list(columns) if columns is not None else [str(c) for c in x.columns]

    def score(estimator: _Scorer, frame: pd.DataFrame, truth: pd.Series) -> float:
        return float(metric(truth, estimator.predict(frame)))

    positions = [x.columns.get_loc(name) for name in names]
    result = permutation_importance(_Scorer(predict), x, y, scoring=score, n_repeats=repeats,
                                    random_state=shuffle_seed)
    return {name: float(result.importances_mean[at]) for name, at in zip(names, positions, strict=True)}
