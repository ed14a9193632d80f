"""Small real served models and an in-process client for the serving tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import modelport
from modelport.inference.load import load
from modelport.inference.model import LoadedModel
from modelport.predictions import PredictionBatch, PredictionLog
from modelport.serving.config import ServerConfig
from modelport.serving.http.app import build_service, create_app
from modelport.serving.service import Service
from tests.data import credit, numeric_classification, numeric_regression

FRAGILE = '''
import time


def preprocess(frame):
    if (frame["x1"] > 50).any():
        raise ValueError("x1 above 50 breaks this model")
    if (frame["x2"] > 50).any():
        time.sleep(1.0)
    return frame
'''


def pack_models(root: Path) -> dict[str, Path]:
    """numeric (3 classes, int labels), regressor, credit (categoricals, nulls), fragile (x1 > 50
    raises, x2 > 50 sleeps a second)."""
    x, y = numeric_classification(200, classes=3)
    numeric = modelport.pack(LogisticRegression().fit(x, y), name="numeric", sample=x, target=y,
                             out=root / "numeric")
    rx, ry = numeric_regression(200)
    regressor = modelport.pack(LinearRegression().fit(rx, ry), name="regressor", sample=rx, target=ry,
                               out=root / "regressor")
    cx, cy = credit(400)
    categorical = [c for c in cx if cx[c].dtype == object]
    encode = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         categorical), remainder=make_pipeline(SimpleImputer(), StandardScaler()))
    credit_model = modelport.pack(make_pipeline(encode, LogisticRegression(max_iter=500)).fit(cx, cy),
                                  name="credit", sample=cx, target=cy, out=root / "credit")
    (root / "fragile.py").write_text(FRAGILE)
    fragile = modelport.pack(LogisticRegression().fit(x, y), name="fragile", sample=x, target=y,
                             preprocess=root / "fragile.py", out=root / "fragile")
    return {"numeric": numeric.path, "regressor": regressor.path, "credit": credit_model.path,
            "fragile": fragile.path}


def open_model(path: Path) -> LoadedModel:
    """Load as ``modelport serve`` does: the server, not the loader, runs the golden check."""
    return load(path, golden_check=False)


@contextlib.asynccontextmanager
async def serving(models: list[LoadedModel] | list[tuple[str, str, LoadedModel]],
                  **config: object) -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    """The app with its lifespan run (golden checks, warm-up), and a client talking to it in process."""
    service, metrics = build_service(models, ServerConfig(**config))  # type: ignore[arg-type]
    app = create_app(service, metrics)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://modelport.test") as client:
            yield client, service


def count_submits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row count of every batch a prediction log is handed (the real log still takes each)."""
    submits: list[int] = []
    real_submit = PredictionLog.submit

    def counted(self: PredictionLog, batch: PredictionBatch) -> list[str]:
        submits.append(len(batch))
        return real_submit(self, batch)

    monkeypatch.setattr(PredictionLog, "submit", counted)
    return submits
