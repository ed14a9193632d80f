"""A model call's requests reach the log as batches: one when they are alike, one per kind when not,
and every request gets back the ids its own rows were logged under."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelport.inference.model import Prediction
from modelport.predictions import PredictionLog, read_predictions
from modelport.serving import batch_logging
from modelport.serving.batch_logging import LogTag, log_delivered
from modelport.serving.batcher import BatchRecord, Queued
from tests.serving_apps import count_submits

COLUMNS = ("a", "b")
HOUR = 3600.0


def _record(tags: list[LogTag], rows: list[np.ndarray]) -> BatchRecord:
    sizes = [len(r) for r in rows]
    total = sum(sizes)
    values = np.arange(total) % 2
    proba = np.column_stack([1 - values * 0.75, values * 0.75 + 0.0])
    delivered, start = [], 0
    for tag, frame, size in zip(tags, rows, sizes, strict=True):
        delivered.append(Queued(frame, False, None, 0.0, True, tag, scores=True, start=start))  # type: ignore[arg-type]
        start += size
    return BatchRecord(total, len(rows), (0.0,) * len(rows), Prediction(values, proba, [0, 1]),
                       tuple(delivered))


def _logged(tmp_path: Path, record: BatchRecord, monkeypatch: pytest.MonkeyPatch
            ) -> tuple[pd.DataFrame, list[int]]:
    submitted = count_submits(monkeypatch)
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        log_delivered(log, "m", "1", COLUMNS, record)
    return read_predictions(tmp_path, "m").set_index("id"), submitted


def test_alike_one_row_requests_are_one_batch_with_each_caller_s_row_and_latency(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def grouped(*_: object) -> None:
        raise AssertionError("alike one-row requests take the one-pass path")

    monkeypatch.setattr(batch_logging, "_groups", grouped)
    now = time.perf_counter()
    tags = [LogTag(now - 0.010 * (i + 1), "m", "v2", "primary") for i in range(5)]
    rows = [np.array([[float(i), -float(i)]]) for i in range(5)]
    logged, submitted = _logged(tmp_path, _record(tags, rows), monkeypatch)
    assert submitted == [5]
    for i, tag in enumerate(tags):
        assert tag.ids is not None
        assert len(tag.ids) == 1
        row = logged.loc[tag.ids[0]]
        assert (row["input.a"], row["input.b"], row["prediction"]) == (i, -i, i % 2)
        assert row["latency_ms"] >= 10.0 * (i + 1)
    assert logged["latency_ms"].is_monotonic_increasing  # the earlier started, the longer waited


def test_requests_of_other_kinds_or_sizes_are_logged_per_kind_under_their_own_ids(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.perf_counter()
    tags = [LogTag(now, "m", "v2", "primary"), LogTag(now, "m", "v1", "primary"),
            LogTag(now, "m", "v2", "primary"), LogTag(now, "m", "v2", "canary")]
    rows = [np.array([[0.0, 0.0]]), np.array([[1.0, 1.0], [2.0, 2.0]]), np.array([[3.0, 3.0]]),
            np.array([[4.0, 4.0]])]
    logged, submitted = _logged(tmp_path, _record(tags, rows), monkeypatch)
    assert sorted(submitted) == [1, 2, 2]  # v2 primary (two requests), v1, canary
    ids = [i for tag in tags for i in (tag.ids or [])]
    assert len(ids) == len(set(ids)) == 5
    assert [logged.loc[i, "input.a"] for i in ids] == [0, 1, 2, 3, 4]
    assert [logged.loc[i, "protocol"] for i in ids] == ["v2", "v1", "v1", "v2", "v2"]
    assert logged.loc[ids[-1], "role"] == "canary"


def test_a_call_with_as_many_rows_as_requests_but_not_one_each_gives_each_request_its_own_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.perf_counter()
    tags = [LogTag(now, "m", "v2", "primary"), LogTag(now, "m", "v2", "primary")]
    rows = [np.empty((0, 2)), np.array([[1.0, 1.0], [2.0, 2.0]])]  # 2 rows, 2 requests
    logged, submitted = _logged(tmp_path, _record(tags, rows), monkeypatch)
    assert submitted == [2]
    assert tags[0].ids == []
    assert tags[1].ids is not None
    assert [logged.loc[i, "input.a"] for i in tags[1].ids] == [1.0, 2.0]
