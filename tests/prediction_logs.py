"""Prediction-log frames for the report tests: a credit model packed on a seeded half of the data, and
its real predictions on the other half, spread over hours, with chosen features shifted on purpose."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import modelport
from tests.artifacts import credit_pipeline_on
from tests.data import credit

#: what the drift case shifts, from its ``shift_from`` hour on
SHIFTED = ("Age", "Amount", "Home")
START = pd.Timestamp("2026-01-05 00:00", tz="UTC")
REFERENCE_ROWS = 2000


def credit_halves(seed: int = 3) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """The credit rows in a seeded random order (its first 2,000 differ from the rest in Expenses and
    Income, so unshuffled halves would drift): the reference half, then the production half."""
    x, y = credit()
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x.iloc[order].reset_index(drop=True), y.iloc[order].reset_index(drop=True)
    n = REFERENCE_ROWS
    return (x.iloc[:n].reset_index(drop=True), y.iloc[:n].reset_index(drop=True),
            x.iloc[n:].reset_index(drop=True), y.iloc[n:].reset_index(drop=True))


def pack_credit(out: Path) -> modelport.Artifact:
    """The credit classifier fitted and packed (reference sample, labels) on the reference half."""
    x, y, _, _ = credit_halves()
    model = credit_pipeline_on(x, y)
    return modelport.pack(model, name="credit", sample=x, target=y, out=out)


def shift(frame: pd.DataFrame) -> pd.DataFrame:
    """Age 8 years older, amounts 1.6 times larger, and tenants and lodgers turned into owners."""
    moved = frame.copy()
    moved["Age"] = moved["Age"] + 8
    moved["Amount"] = (moved["Amount"] * 1.6).round().astype(moved["Amount"].dtype)
    moved["Home"] = moved["Home"].replace({"rent": "owner", "parents": "owner"})
    return moved


def prediction_log(model: modelport.LoadedModel, x: pd.DataFrame, y: pd.Series | None, *,
                   hours: int = 6, shift_from: int | None = None,
                   change: Callable[[pd.DataFrame], pd.DataFrame] = shift, version: str = "1",
                   labelled_hours: Sequence[int] | None = None, statuses: Sequence[int] = (),
                   seed: int = 0, start: pd.Timestamp = START) -> pd.DataFrame:
    """The log a server would write predicting ``x`` evenly over ``hours`` hours from ``start``.

    Rows from hour ``shift_from`` on are changed by ``change`` before predicting; labels are joined
    for the hours in ``labelled_hours`` (all when None, none when ``y`` is None); ``statuses`` are
    extra failed requests (no prediction) spread over the range.
    """
    rng = np.random.default_rng(seed)
    n = len(x)
    offsets = np.arange(n) * (hours * 3600.0 / n)
    times = start + pd.to_timedelta(offsets, unit="s")
    hour = (offsets // 3600).astype(int)
    inputs = x
    if shift_from is not None:
        later = hour >= shift_from
        inputs = pd.concat([x[~later], change(x[later])]).sort_index()
    predicted = model.predict_detailed(inputs)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "time": times, "model": model.name,
                          "version": version, "status": 200,
                          "latency_ms": rng.gamma(4.0, 2.5, size=n)})
    for column in x.columns:
        frame[f"input.{column}"] = inputs[column].to_numpy()
    frame["prediction"] = predicted.values
    assert predicted.probabilities is not None
    assert predicted.labels is not None
    for k, label in enumerate(predicted.labels):
        frame[f"proba.{label}"] = predicted.probabilities[:, k]
    if y is not None:
        keep = np.ones(n, dtype=bool) if labelled_hours is None else np.isin(hour, list(labelled_hours))
        frame["label"] = pd.Series(y.to_numpy(), dtype=object).where(keep, None)
    if statuses:
        failed = pd.DataFrame({"id": [f"e{i}" for i in range(len(statuses))],
                               "time": start + pd.to_timedelta(
                                   np.linspace(0, hours * 3600 - 1, len(statuses)), unit="s"),
                               "model": model.name, "version": version, "status": list(statuses),
                               "latency_ms": rng.gamma(2.0, 1.0, size=len(statuses))})
        frame = pd.concat([frame, failed], ignore_index=True).sort_values("time", kind="stable")
    return frame.reset_index(drop=True)
