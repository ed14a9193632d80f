"""Windows by time and by count: every timestamped record lands in exactly one window of its span."""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from modelport.errors import SchemaError
from modelport.monitoring.windows import by_count, by_time


def _records(rows: int = 500, seed: int = 0, tz: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-01 00:10", tz=tz)
    offsets = pd.to_timedelta(rng.uniform(0, 3 * 24 * 3600, size=rows), unit="s")
    frame = pd.DataFrame({"time": start + offsets, "x": rng.normal(size=rows), "id": np.arange(rows)})
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_hourly_windows_are_aligned_half_open_and_cover_every_record() -> None:
    frame = _records()
    windows = by_time(frame, "time", "1h")
    assert windows[0].start == pd.Timestamp("2026-03-01 00:00")
    assert all(w.end - w.start == pd.Timedelta("1h") for w in windows)
    assert all(b.start == a.end for a, b in itertools.pairwise(windows))
    assert windows[-1].start <= frame["time"].max() < windows[-1].end
    assert sum(w.rows for w in windows) == len(frame)
    for window in windows:
        inside = (frame["time"] >= window.start) & (frame["time"] < window.end)
        assert sorted(window.frame["id"]) == sorted(frame.loc[inside, "id"])
        assert window.frame["time"].is_monotonic_increasing


def test_empty_spans_are_windows_too() -> None:
    frame = pd.DataFrame({"time": pd.to_datetime(["2026-01-01 00:30", "2026-01-01 03:15"]), "x": [1, 2]})
    windows = by_time(frame, "time", timedelta(hours=1))
    assert [w.rows for w in windows] == [1, 0, 0, 1]
    assert windows[1].label == "2026-01-01T01:00:00"


def test_a_range_selects_and_clips() -> None:
    frame = _records()
    windows = by_time(frame, "time", "1D", start="2026-03-02", end="2026-03-03 12:00")
    assert [(w.start, w.end) for w in windows] == [
        (pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-03")),
        (pd.Timestamp("2026-03-03"), pd.Timestamp("2026-03-03 12:00")),
    ]
    inside = (frame["time"] >= "2026-03-02") & (frame["time"] < "2026-03-03 12:00")
    assert sum(w.rows for w in windows) == int(inside.sum())
    assert by_time(frame, "time", "6h", start="2026-03-10", end="2026-03-11")[0].rows == 0


def test_time_zones_are_kept_and_naive_bounds_read_in_them() -> None:
    frame = _records(tz="UTC").assign(time=lambda f: f["time"].dt.tz_convert("Asia/Tokyo"))
    windows = by_time(frame, "time", "1D")
    assert str(windows[0].start.tz) == "Asia/Tokyo"
    assert windows[0].start == pd.Timestamp("2026-03-01 00:00", tz="UTC")
    ranged = by_time(frame, "time", "12h", start="2026-03-02 09:00", end="2026-03-03 09:00")
    assert ranged[0].start == pd.Timestamp("2026-03-02 00:00", tz="UTC")
    times = frame["time"]
    lo, hi = pd.Timestamp("2026-03-02 00:00", tz="UTC"), pd.Timestamp("2026-03-03", tz="UTC")
    inside = (times >= lo) & (times < hi)
    assert sum(w.rows for w in ranged) == int(inside.sum())


def test_records_without_a_time_fall_in_no_window() -> None:
    frame = _records(50)
    frame.loc[[3, 7], "time"] = pd.NaT
    assert sum(w.rows for w in by_time(frame, "time", "1h")) == 48
    assert sum(w.rows for w in by_count(frame, 10, "time")) == 48
    assert by_time(frame.iloc[:0], "time") == []


def test_count_windows_follow_time_order_and_mark_the_short_one() -> None:
    frame = _records(95)
    windows = by_count(frame, 20, "time")
    assert [w.rows for w in windows] == [20, 20, 20, 20, 15]
    assert [w.complete for w in windows] == [True, True, True, True, False]
    joined = pd.concat([w.frame for w in windows])
    assert joined["time"].is_monotonic_increasing
    assert sorted(joined["id"]) == list(range(95))
    plain = by_count(frame, 50)
    assert plain[0].frame["id"].tolist() == frame["id"].iloc[:50].tolist()


def test_count_windows_over_a_range() -> None:
    frame = _records(300)
    windows = by_count(frame, 25, "time", start="2026-03-02", end="2026-03-03")
    inside = frame[(frame["time"] >= "2026-03-02") & (frame["time"] < "2026-03-03")]
    assert sum(w.rows for w in windows) == len(inside)
    assert all(w.frame["time"].between("2026-03-02", "2026-03-03", inclusive="left").all() for w in windows)


def test_bad_arguments_are_refused() -> None:
    frame = _records(10)
    with pytest.raises(SchemaError, match="must hold datetimes"):
        by_time(frame, "x")
    with pytest.raises(SchemaError, match="no such timestamp column"):
        by_time(frame, "when")
    with pytest.raises(ValueError, match="must span some time"):
        by_time(frame, "time", "0s")
    with pytest.raises(ValueError, match="at least one record"):
        by_count(frame, 0)
    with pytest.raises(ValueError, match="needs the timestamp column"):
        by_count(frame, 5, start="2026-01-01")


def test_window_to_dict() -> None:
    window = by_time(_records(20), "time", "1D")[0]
    data = window.to_dict()
    assert data["start"] == "2026-03-01T00:00:00"
    assert data["rows"] == window.rows
