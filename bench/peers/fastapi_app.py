"""A hand-written FastAPI app for bench/serving_peers.py: joblib.load, a pydantic body, model.predict.

Served by the FastAPI venv (bench/peers/setup.sh) with
``uvicorn fastapi_app:app --loop uvloop --http httptools --no-access-log``. BENCH_MODEL is the
joblib file; BENCH_ASYNC=1 declares the endpoints ``async def`` (predict on the event loop) instead
of ``def`` (predict in Starlette's thread pool, what most tutorials write).
"""

from __future__ import annotations

import os

import joblib
import numpy as np
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

model = joblib.load(os.environ["BENCH_MODEL"])
app = FastAPI()


class Features(BaseModel):
    """One row of the breast_cancer data: 30 floats, in the training column order."""

    features: list[float]


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


def _array(body: Features) -> dict[str, list[int]]:
    return {"prediction": model.predict(np.array([body.features])).tolist()}


def _frame(body: Applicant) -> dict[str, list[str]]:
    return {"prediction": [str(v) for v in model.predict(pd.DataFrame([body.model_dump()]))]}


if os.environ.get("BENCH_ASYNC") == "1":
    @app.post("/predict")
    async def predict(body: Features) -> dict[str, list[int]]:
        return _array(body)

    @app.post("/predict_credit")
    async def predict_credit(body: Applicant) -> dict[str, list[str]]:
        return _frame(body)
else:
    @app.post("/predict")
    def predict(body: Features) -> dict[str, list[int]]:
        return _array(body)

    @app.post("/predict_credit")
    def predict_credit(body: Applicant) -> dict[str, list[str]]:
        return _frame(body)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
