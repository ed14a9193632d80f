"""BentoML services for bench/serving_peers.py: the same joblib model behind a batchable and a plain API.

Served by the BentoML venv (bench/peers/setup.sh): ``bentoml serve bento_service:ArrayBatched``.
BENCH_MODEL is the joblib file. Array services take ``{"features": [[30 floats]]}`` (a model fitted
on a numpy array); Records services take ``{"rows": [{column: value, ...}]}``, a list of pydantic
records. (A batchable API typed ``pd.DataFrame`` hangs in BentoML 1.4.40: its dispatcher's
``PandasDataFrameContainer.get_batch_size`` returns ``df.shape``, a tuple, and the batch loop raises
``TypeError`` until the 60 s timeout; a list batches by ``len``.)
"""

from __future__ import annotations

import os

import bentoml
import joblib
import numpy as np
import pandas as pd
from pydantic import BaseModel

MODEL = os.environ.get("BENCH_MODEL", "")
#: one worker process, no access log (as every server in the benchmark)
CONFIG = {"workers": 1, "logging": {"access": {"enabled": False}}, "traffic": {"timeout": 60}}
#: max_latency_ms is BentoML's latency budget for the dispatcher (past it a request gets 503), not a wait
BATCHING = {"batchable": True, "batch_dim": 0, "max_batch_size": 64, "max_latency_ms": 10_000}


class Applicant(BaseModel):
    """One row of the credit data, raw: categorical columns are strings."""

    Seniority: int
    Home: str
    Time: int
    Age: int
    Marital: str
    Records: str
    Job: str
    Expenses: int
    Income: float
    Assets: float
    Debt: float
    Amount: int
    Price: int


def _frame(rows: list[Applicant]) -> pd.DataFrame:
    return pd.DataFrame([row.model_dump() for row in rows])


@bentoml.service(**CONFIG)
class ArrayBatched:
    def __init__(self) -> None:
        self.model = joblib.load(MODEL)

    @bentoml.api(**BATCHING)
    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(features))


@bentoml.service(**CONFIG)
class ArrayPlain:
    def __init__(self) -> None:
        self.model = joblib.load(MODEL)

    @bentoml.api
    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(features))


@bentoml.service(**CONFIG)
class RecordsBatched:
    def __init__(self) -> None:
        self.model = joblib.load(MODEL)

    @bentoml.api(**BATCHING)
    def predict(self, rows: list[Applicant]) -> list[str]:
        return [str(v) for v in self.model.predict(_frame(rows))]


@bentoml.service(**CONFIG)
class RecordsPlain:
    def __init__(self) -> None:
        self.model = joblib.load(MODEL)

    @bentoml.api
    def predict(self, rows: list[Applicant]) -> list[str]:
        return [str(v) for v in self.model.predict(_frame(rows))]
