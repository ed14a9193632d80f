"""The reference sample monitoring compares production with: inputs, outputs, labels, importances."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from modelport.artifact.flavors.base import ExposesImportances
from modelport.core import importance as shared
from modelport.inference.model import LoadedModel, Prediction

FOLDER = "reference"
SAMPLE = f"{FOLDER}/sample.parquet"
IMPORTANCES = f"{FOLDER}/importances.json"
MAX_ROWS = 10_000
PERMUTATION_ROWS = 1_000
PERMUTATION_REPEATS = 3
PREDICTION_COLUMN = "__prediction__"
TARGET_COLUMN = "__target__"
PROBA_PREFIX = "__proba__"


def choose_rows(frame: pd.DataFrame, limit: int = MAX_ROWS, seed: int = 0) -> np.ndarray:
    """Positions of a seeded random subset (all rows when the sample is small)."""
    return shared.choose_rows(len(frame), limit, seed)


def sample_frame(inputs: pd.DataFrame, prediction: Prediction, target: pd.Series | None) -> pd.DataFrame:
    frame = inputs.reset_index(drop=True).copy()
    frame[PREDICTION_COLUMN] = prediction.values
    if prediction.probabilities is not None and prediction.labels is not None:
        for i, label in enumerate(prediction.labels):
            frame[f"{PROBA_PREFIX}{label}"] = prediction.probabilities[:, i]
    if target is not None:
        frame[TARGET_COLUMN] = target.reset_index(drop=True).to_numpy()
    return frame


def model_importances(model: LoadedModel) -> dict[str, float] | None:
    """Importances the fitted model exposes, as its flavor reads them (None when it has none)."""
    if isinstance(model.flavor, ExposesImportances):
        return model.flavor.importances(model.model)
    return None


def permutation_importances(model: LoadedModel, inputs: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Mean drop in accuracy (classification) or R² (regression) when a raw column is shuffled."""

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict_frame(frame, proba=False).values)

    return shared.permutation_importances(predict, inputs, target, task=model.task, rows=PERMUTATION_ROWS,
                                          repeats=PERMUTATION_REPEATS, row_seed=1, shuffle_seed=0)


def write(root: Path, frame: pd.DataFrame, importances: dict[str, dict[str, float]]) -> None:
    (root / FOLDER).mkdir()
    frame.to_parquet(root / SAMPLE, index=False)
    (root / IMPORTANCES).write_text(json.dumps(importances, indent=1, sort_keys=True))


def read_sample(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / SAMPLE)


def read_importances(root: Path) -> dict[str, dict[str, float]]:
    data: dict[str, dict[str, float]] = json.loads((root / IMPORTANCES).read_text())
    return data
