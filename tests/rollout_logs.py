"""Prediction logs of rollouts, written with the real ``PredictionLog``: a primary with a shadow linked by
``primary_ids``, and A/B arms whose outcomes come back as feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from modelport.predictions import PredictionBatch, PredictionLog

WHEN = datetime(2026, 3, 2, 9, tzinfo=UTC)
LABELS = ["bad", "good"]
#: the shadow's probability of "good" is this much lower from this age on
SHADOW_AGE, SHADOW_DROP = 170, 0.3


def inputs(first: int, n: int) -> pd.DataFrame:
    rows = np.arange(first, first + n)
    return pd.DataFrame({"age": 20 + rows, "income": rows * 1.5,
                         "home": np.where(rows % 2 == 0, "rent", "owner").astype(object)})


def good_proba(first: int, n: int) -> np.ndarray:
    """The primary's probability of "good" for rows first..first + n: a saw of period 10."""
    return 0.05 + 0.1 * (np.arange(first, first + n) % 10)


def batch(endpoint: str, model: str, version: str, first: int, n: int, good: np.ndarray | None, *,
          role: str = "primary", ids: list[str] | None = None, primary_ids: list[str] | None = None,
          status: int = 200, latency_ms: float = 4.0, time: datetime = WHEN) -> PredictionBatch:
    proba = None if good is None else np.column_stack([1 - good, good])
    predictions = None if proba is None else np.asarray(LABELS, dtype=object)[proba.argmax(axis=1)]
    return PredictionBatch(endpoint=endpoint, model=model, version=version, inputs=inputs(first, n),
                           predictions=predictions, probabilities=proba, labels=LABELS, protocol="v2",
                           status=status, latency_ms=latency_ms, ids=ids, time=time, role=role,
                           primary_ids=primary_ids)


def log_shadowed(root: Path, *, rows: int = 200, request: int = 20, lost: int = 10, failed: int = 5,
                 early: int = 0) -> None:
    """``credit:1`` answers ``rows`` rows in requests of ``request`` rows; ``credit:2`` shadows them with
    the same probabilities except from age ``SHADOW_AGE`` on, where "good" drops by ``SHADOW_DROP``.
    The last ``lost`` rows never get a copy, the ``failed`` copies before them fail (status 500), and
    ``early`` primary rows are answered an hour before the shadow started."""
    with PredictionLog(root, flush_interval_s=3600) as log:
        if early:
            log.submit(batch("credit", "credit", "1", 10_000, early, good_proba(0, early),
                             ids=[f"early-{i}" for i in range(early)], time=WHEN - timedelta(hours=1)))
        for first in range(0, rows, request):
            n = min(request, rows - first)
            ids = [f"p{i}" for i in range(first, first + n)]
            at = WHEN + timedelta(seconds=first)
            good = good_proba(first, n)
            log.submit(batch("credit", "credit", "1", first, n, good, ids=ids, latency_ms=4.0 + first / 100,
                             time=at))
            copied = [i for i in range(first, first + n) if i < rows - lost - failed]
            if copied:
                k = len(copied)
                shadow_good = good[:k] - np.where(20 + np.asarray(copied) >= SHADOW_AGE, SHADOW_DROP, 0.0)
                log.submit(batch("credit", "credit", "2", first, k, np.clip(shadow_good, 0.0, 1.0),
                                 role="shadow", primary_ids=ids[:k], latency_ms=9.0 + first / 50,
                                 time=at + timedelta(milliseconds=500)))
            broken = [i for i in range(first, first + n) if rows - lost - failed <= i < rows - lost]
            if broken:
                start = broken[0] - first
                log.submit(batch("credit", "credit", "2", broken[0], len(broken), None, role="shadow",
                                 primary_ids=ids[start:start + len(broken)], status=500, latency_ms=30.0,
                                 time=at + timedelta(milliseconds=500)))


def log_arms(root: Path, versions: tuple[str, ...] = ("1", "2"), *, rows: int = 400, request: int = 10,
             endpoint: str = "pricing") -> dict[str, list[str]]:
    """``rows`` predictions per version of ``pricing``, logged with role ``arm`` in requests of
    ``request`` rows taking turns; the ids of each version's predictions."""
    ids: dict[str, list[str]] = {version: [] for version in versions}
    with PredictionLog(root, flush_interval_s=3600) as log:
        for first in range(0, rows, request):
            for k, version in enumerate(versions):
                named = [f"v{version}-{i}" for i in range(first, first + request)]
                log.submit(batch(endpoint, "pricing", version, first, request, good_proba(first, request),
                                 role="arm", ids=named, latency_ms=3.0 + k,
                                 time=WHEN + timedelta(seconds=first, milliseconds=k)))
                ids[version].extend(named)
    return ids


def conversions(n: int, rate: float, seed: int) -> np.ndarray:
    """``n`` outcomes of 0 and 1, about ``rate`` of them 1."""
    return (np.random.default_rng(seed).random(n) < rate).astype(int)
