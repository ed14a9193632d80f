"""What a flavor case provides: a tiny real model, its raw sample and in-process expectations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class CaseData:
    """A trained model and what it predicts in this process, before any packing."""

    model: Any
    sample: pd.DataFrame
    #: raw rows → predictions the user's own code would compute in-process
    expected: Callable[[pd.DataFrame], np.ndarray]
    #: raw rows → class probabilities, for classifiers
    expected_proba: Callable[[pd.DataFrame], np.ndarray] | None = None
    #: the model saved the way a user would, for ``pack MODEL_FILE`` (None: object only)
    model_file: Path | None = None
    #: extra pack() keyword arguments (labels, task, preprocess, trust_pickle, target...)
    pack_kwargs: dict[str, Any] = field(default_factory=dict)
    #: how close predictions must be to ``expected``
    atol: float = 1e-6


@dataclass(frozen=True)
class FlavorCase:
    id: str
    flavor: str
    build: Callable[[Path], CaseData]

    def __repr__(self) -> str:
        return self.id


def mixed_preprocessor(frame: pd.DataFrame) -> Any:
    """A fitted ColumnTransformer for tree models: one-hot categories, numbers (and NaN) as is."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    categories = [c for c in frame if frame[c].dtype == object]
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer([("cat", encoder, categories)], remainder="passthrough").fit(frame)


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its string columns as pandas categories (native categorical support)."""
    return frame.astype({c: "category" for c in frame if frame[c].dtype == object})


def class_names(target: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted class names and the 0..k-1 codes XGBoost needs as a target."""
    names = np.array(sorted(target.unique()))
    return names, np.searchsorted(names, target.to_numpy())
