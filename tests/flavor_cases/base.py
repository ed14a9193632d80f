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
