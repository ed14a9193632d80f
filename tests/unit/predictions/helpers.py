"""Small batches for the prediction-log tests: one-row and n-row requests of a tiny classifier."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from modelport.predictions import PredictionBatch

LABELS = ["bad", "good"]


def frame(n: int, start: int = 0) -> pd.DataFrame:
    rows = np.arange(start, start + n)
    return pd.DataFrame({"age": 20 + rows, "income": rows * 1.5,
                         "home": np.where(rows % 2 == 0, "rent", "owner").astype(object)})


def classified(n: int, *, start: int = 0, ids: list[str] | None = None, model: str = "credit",
               version: str = "1", time: datetime | None = None, role: str = "primary") -> PredictionBatch:
    proba = np.column_stack([np.linspace(0.1, 0.9, n), 1 - np.linspace(0.1, 0.9, n)])
    return PredictionBatch(endpoint=model, model=model, version=version, inputs=frame(n, start),
                           predictions=np.asarray(LABELS, dtype=object)[proba.argmax(axis=1)],
                           probabilities=proba, labels=LABELS, protocol="v2", status=200,
                           latency_ms=2.5, ids=ids, time=time, role=role)


def numbered(first: int, n: int) -> list[str]:
    """Ids that say their order: 32 hex digits of first, first + 1, ..."""
    return [f"{i:032x}" for i in range(first, first + n)]
