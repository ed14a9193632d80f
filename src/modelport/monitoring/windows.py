"""Split a frame of records into windows by time (an hour, a day, any span) or by count, over any range.

Time windows are half-open, ``[start, end)``, aligned to their span counted from the Unix epoch in
UTC (hours start on the hour, days at midnight UTC) unless ``start`` is given, and include the
empty ones, so a report shows a gap as a gap. Count windows follow time order when a timestamp
column is named (NannyML's size-based chunks); the last one may be short and says so. Records
without a timestamp fall in no window of either kind when a timestamp column is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from modelport.errors import Problem, SchemaError

TimeLike = str | datetime | pd.Timestamp
SpanLike = str | timedelta | pd.Timedelta


@dataclass(frozen=True)
class Window:
    """One window: its records, and the time span they were taken from (None for count windows)."""

    index: int
    frame: pd.DataFrame
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    complete: bool = True

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def label(self) -> str:
        return self.start.isoformat() if self.start is not None else f"window {self.index}"

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "label": self.label, "rows": self.rows,
                "start": None if self.start is None else self.start.isoformat(),
                "end": None if self.end is None else self.end.isoformat(), "complete": self.complete}


@dataclass(frozen=True)
class _Timed:
    """The timestamped rows in time order, their instants as int64 nanoseconds, and the time zone."""

    frame: pd.DataFrame
    instants: np.ndarray
    tz: Any

    def stamp(self, instant: int) -> pd.Timestamp:
        moment = pd.Timestamp(instant, unit="ns")
        return moment.tz_localize("UTC").tz_convert(self.tz) if self.tz is not None else moment

    def instant(self, value: TimeLike) -> int:
        moment = pd.Timestamp(value)
        if moment.tzinfo is None and self.tz is not None:
            moment = moment.tz_localize(self.tz)
        if moment.tzinfo is not None:
            moment = moment.tz_convert("UTC").tz_localize(None)
        return int(moment.as_unit("ns").value)

    def between(self, start: int, end: int) -> pd.DataFrame:
        a, b = np.searchsorted(self.instants, [start, end], side="left")
        return self.frame.iloc[a:b]


def _timed(frame: pd.DataFrame, column: str) -> _Timed:
    if column not in frame:
        raise SchemaError([Problem(column, "no such timestamp column")])
    times = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        raise SchemaError([Problem(column, f"must hold datetimes, not {times.dtype}")])
    tz = times.dt.tz
    present = times.notna().to_numpy()
    utc = times.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else times
    instants = utc.to_numpy(dtype="datetime64[ns]").view(np.int64)[present]
    order = np.argsort(instants, kind="stable")
    return _Timed(frame.iloc[np.flatnonzero(present)[order]], instants[order], tz)


def by_time(frame: pd.DataFrame, column: str, every: SpanLike = "1D", *, start: TimeLike | None = None,
            end: TimeLike | None = None) -> list[Window]:
    """Windows of one span each over ``[start, end)`` (by default: from the first record to the last)."""
    span = pd.Timedelta(every).as_unit("ns").value
    if span <= 0:
        raise ValueError(f"a window must span some time, not {every!r}")
    timed = _timed(frame, column)
    if not timed.instants.size and (start is None or end is None):
        return []
    lo = timed.instant(start) if start is not None else int(timed.instants[0]) // span * span
    if end is not None:
        hi = timed.instant(end)
    else:
        count = -(-(int(timed.instants[-1]) + 1 - lo) // span)
        hi = lo + max(count, 0) * span
    windows = []
    for index, at in enumerate(range(lo, hi, span)):
        until = min(at + span, hi)
        windows.append(Window(index, timed.between(at, until), timed.stamp(at), timed.stamp(until)))
    return windows


def by_count(frame: pd.DataFrame, size: int, column: str | None = None, *, start: TimeLike | None = None,
             end: TimeLike | None = None) -> list[Window]:
    """Consecutive windows of ``size`` records, in time order when ``column`` names the timestamps."""
    if size < 1:
        raise ValueError(f"a window holds at least one record, not {size}")
    if column is None:
        if start is not None or end is not None:
            raise ValueError("a time range needs the timestamp column")
        ordered = frame
    else:
        timed = _timed(frame, column)
        lo = timed.instant(start) if start is not None else np.iinfo(np.int64).min
        hi = timed.instant(end) if end is not None else np.iinfo(np.int64).max
        ordered = timed.between(lo, hi)
    return [Window(i, ordered.iloc[at:at + size], complete=at + size <= len(ordered))
            for i, at in enumerate(range(0, len(ordered), size))]
