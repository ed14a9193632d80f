"""Golden examples: rows stored with their outputs at pack time and re-predicted at load time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelport.inference.model import LoadedModel, Prediction

FOLDER = "golden"
INPUTS = f"{FOLDER}/inputs.parquet"
OUTPUTS = f"{FOLDER}/outputs.json"
MAX_ROWS = 20


def choose_rows(frame: pd.DataFrame, limit: int = MAX_ROWS) -> pd.DataFrame:
    """Rows spread evenly over the sample, so both ends of a sorted sample are covered."""
    if len(frame) <= limit:
        return frame.reset_index(drop=True)
    positions = np.linspace(0, len(frame) - 1, limit).round().astype(int)
    return frame.iloc[np.unique(positions)].reset_index(drop=True)


def outputs_to_json(prediction: Prediction) -> dict[str, Any]:
    out: dict[str, Any] = {"values": np.asarray(prediction.values).tolist()}
    if prediction.probabilities is not None:
        out["probabilities"] = np.asarray(prediction.probabilities).tolist()
    return out


def write(root: Path, rows: pd.DataFrame, prediction: Prediction) -> None:
    (root / FOLDER).mkdir()
    rows.to_parquet(root / INPUTS, index=False)
    (root / OUTPUTS).write_text(json.dumps(outputs_to_json(prediction), allow_nan=True))


@dataclass(frozen=True)
class GoldenResult:
    """Which golden rows differ here, and by how much."""

    rows: int
    failed_rows: list[int]
    max_difference: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return not self.failed_rows

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "passed": self.passed, "failed_rows": self.failed_rows,
                "max_difference": self.max_difference, "tolerance": self.tolerance}


def _numeric_differences(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Per-row largest absolute difference, scaled for large magnitudes; NaN equals NaN."""
    scale = np.maximum(1.0, np.abs(expected))
    both_nan = np.isnan(expected) & np.isnan(actual)
    diff = np.where(both_nan, 0.0, np.abs(expected - actual) / scale)
    diff = np.where(np.isnan(diff), np.inf, diff)
    return np.asarray(diff.reshape(len(diff), -1).max(axis=1))


def compare(expected: dict[str, Any], actual: Prediction, tolerance: float) -> GoldenResult:
    want = np.asarray(expected["values"])
    got = np.asarray(actual.values)
    n = len(want)
    if got.shape != want.shape:
        return GoldenResult(n, list(range(n)), float("inf"), tolerance)
    if np.issubdtype(want.dtype, np.number) and np.issubdtype(got.dtype, np.number):
        per_row = _numeric_differences(want.astype(float), got.astype(float))
    else:
        same = np.array([a == b for a, b in zip(want.tolist(), got.tolist(), strict=True)])
        per_row = np.where(same, 0.0, np.inf)
    if "probabilities" in expected:
        if actual.probabilities is None:
            return GoldenResult(n, list(range(n)), float("inf"), tolerance)
        want_p = np.asarray(expected["probabilities"], dtype=float)
        got_p = np.asarray(actual.probabilities, dtype=float)
        if want_p.shape != got_p.shape:
            return GoldenResult(n, list(range(n)), float("inf"), tolerance)
        per_row = np.maximum(per_row, _numeric_differences(want_p, got_p))
    failed = [int(i) for i in np.flatnonzero(per_row > tolerance)]
    largest = float(per_row.max()) if len(per_row) else 0.0
    return GoldenResult(n, failed, largest, tolerance)


def run(model: LoadedModel, root: Path) -> GoldenResult:
    """Predict the stored golden rows with ``model`` and compare with the stored outputs."""
    rows = pd.read_parquet(root / INPUTS)
    expected = json.loads((root / OUTPUTS).read_text())
    frame, _ = model.validate(rows)
    actual = model.predict_frame(frame, proba="probabilities" in expected)
    tolerance = float(model.manifest.golden.get("tolerance", model.flavor.tolerance))
    return compare(expected, actual, tolerance)
