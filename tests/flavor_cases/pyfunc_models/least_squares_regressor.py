"""A user's pyfunc regressor whose coefficients live in a data file read by load_context."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

COEFFICIENTS = "coefficients.json"


class LeastSquaresRegressor:
    data_files = (COEFFICIENTS,)

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.coef_ = np.zeros(0)
        self.intercept_ = 0.0

    def load_context(self, directory: Path) -> None:
        data = json.loads((directory / COEFFICIENTS).read_text())
        self.columns = list(data["columns"])
        self.coef_ = np.asarray(data["coef"], dtype=float)
        self.intercept_ = float(data["intercept"])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame[self.columns].to_numpy(dtype=float) @ self.coef_ + self.intercept_)
