"""Reading the log: union by name across segments, time and version filters, nothing there."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from modelport.predictions import PredictionBatch, PredictionLog, read_predictions
from modelport.predictions.records import BASE_COLUMNS
from tests.unit.predictions.helpers import classified

HOUR = 3600.0


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_segments_with_different_columns_are_unioned_by_name(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        old = log.submit(classified(2, time=at(1)))
        log.flush()
        new = log.submit(PredictionBatch("credit", "credit", "2", {"age": [40], "score": [0.7]},
                                         predictions=["good"], time=at(2)))
    assert len(list(tmp_path.rglob("*.parquet"))) == 2
    frame = read_predictions(tmp_path, "credit")
    assert frame["id"].tolist() == old + new
    assert frame["input.age"].tolist() == [20, 21, 40]
    assert frame["input.score"].isna().tolist() == [True, True, False]
    assert frame["proba.good"].isna().tolist() == [False, False, True]


def test_time_window_is_half_open_utc_and_version_filters(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        ids = {day: log.submit(classified(1, time=at(day), version=str(day % 2))) for day in range(1, 6)}
    window = read_predictions(tmp_path, "credit", since=at(2), until=at(4))
    assert window["id"].tolist() == ids[2] + ids[3]
    naive = read_predictions(tmp_path, "credit", since="2026-03-02 12:00",
                             until=pd.Timestamp("2026-03-04 12:00"))
    assert naive["id"].tolist() == window["id"].tolist()
    shifted = read_predictions(tmp_path, "credit", since="2026-03-02T13:00+01:00")  # 12:00 UTC
    assert shifted["id"].tolist() == ids[2] + ids[3] + ids[4] + ids[5]
    assert read_predictions(tmp_path, "credit", version="1")["id"].tolist() == ids[1] + ids[3] + ids[5]
    assert str(window["time"].dtype) == "datetime64[us, UTC]"


def test_an_empty_log_reads_as_an_empty_frame_with_the_base_columns(tmp_path: Path) -> None:
    frame = read_predictions(tmp_path, "credit")
    assert list(frame.columns) == list(BASE_COLUMNS)
    assert frame.empty
    assert str(frame["time"].dtype) == "datetime64[us, UTC]"
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        log.submit(classified(1, time=at(1)))
    assert read_predictions(tmp_path, "credit", since=at(2)).empty


def test_many_requests_read_back_in_time_order(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        ids = []
        for i in range(30):
            ids += log.submit(classified(1 + i % 4, start=i))
            if i % 7 == 0:
                log.flush()
    frame = read_predictions(tmp_path, "credit")
    assert frame["id"].tolist() == ids
    assert frame["time"].is_monotonic_increasing


def test_a_column_whose_type_changed_between_segments_reads_as_text(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        text = log.submit(PredictionBatch("m", "m", "1", {"code": ["A7"]}, predictions=[1], time=at(1)))
        log.flush()
        number = log.submit(PredictionBatch("m", "m", "1", {"code": [7]}, predictions=["x"], time=at(2)))
    frame = read_predictions(tmp_path, "m")
    assert frame["id"].tolist() == text + number
    assert frame["input.code"].tolist() == ["A7", "7"]
    assert frame["prediction"].tolist() == ["1", "x"]
