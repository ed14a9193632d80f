"""CPU and memory of the processes that log predictions, sampled beside the log so a report run later
from the log alone can show them.

The prediction log's writer thread (never the request path) samples its own process with psutil every
``interval_s`` seconds: cumulative CPU seconds (user + system), the share of one core used since the
previous sample, and resident memory. Samples are buffered and written every ``write_every_s`` seconds
(and when the log closes) as a segment per model the process has logged predictions of, under
``resources/model=<name>/date=<day>/``, one row per sample and model. A process that serves several
models counts once in each model's figures: they are the figures of the processes that served it.
A SIGKILL loses at most the samples of the last ``write_every_s``; losing them never loses a prediction.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from modelport.predictions.records import now_us
from modelport.predictions.segments import DAY_US, day_of, model_folder, write_segment

#: the columns of a resource segment
COLUMNS = ("time", "model", "host", "pid", "cpu_seconds", "cpu_share", "rss_bytes")
SCHEMA = pa.schema([("time", pa.timestamp("us", tz="UTC")), ("model", pa.string()), ("host", pa.string()),
                    ("pid", pa.int64()), ("cpu_seconds", pa.float64()), ("cpu_share", pa.float64()),
                    ("rss_bytes", pa.int64())])
#: samples kept while the process has logged no prediction yet (then they are written for its models)
MAX_UNCLAIMED = 360


@dataclass(frozen=True)
class ResourceSample:
    """One sample of this process: when, its CPU time so far, its share of a core since the previous."""

    time_us: int
    pid: int
    cpu_seconds: float
    cpu_share: float | None
    rss_bytes: int


class ResourceSampler:
    """Samples this process every ``interval_s`` and buffers the samples until they are written."""

    def __init__(self, interval_s: float = 10.0, write_every_s: float = 60.0) -> None:
        import psutil

        self.interval_s = float(interval_s)
        self.write_every_s = float(write_every_s)
        self.host = socket.gethostname()
        self._process = psutil.Process(os.getpid())
        self._buffer: list[ResourceSample] = []
        self._previous: tuple[float, float] | None = None  # (monotonic time, cpu seconds)
        self._due = time.monotonic()
        self._write_due = time.monotonic() + self.write_every_s

    def sample(self) -> ResourceSample:
        """Take a sample now and buffer it."""
        times = self._process.cpu_times()
        cpu, now = float(times.user + times.system), time.monotonic()
        share = None
        if self._previous is not None and now > self._previous[0]:
            share = max(0.0, (cpu - self._previous[1]) / (now - self._previous[0]))
        self._previous = (now, cpu)
        taken = ResourceSample(now_us(), self._process.pid, cpu, share, int(self._process.memory_info().rss))
        self._buffer.append(taken)
        return taken

    def due_in(self) -> float:
        """Seconds until the next sample is due (0 when it is)."""
        return max(0.0, self._due - time.monotonic())

    def tick(self) -> None:
        """Sample when a sample is due (the writer thread calls this at every flush)."""
        now = time.monotonic()
        if now >= self._due:
            self.sample()
            self._due = now + self.interval_s

    def write_due(self) -> bool:
        return time.monotonic() >= self._write_due and bool(self._buffer)

    def write(self, root: Path, models: Iterable[str]) -> int:
        """Write the buffered samples for each of ``models``; return the segments written.

        With no model yet the samples stay buffered (the latest ``MAX_UNCLAIMED``); a failed write
        keeps them for the next one.
        """
        self._write_due = time.monotonic() + self.write_every_s
        names = sorted(models)
        if not names:
            del self._buffer[:-MAX_UNCLAIMED]
            return 0
        written = 0
        by_day: dict[int, list[ResourceSample]] = {}
        for taken in self._buffer:
            by_day.setdefault(taken.time_us // DAY_US, []).append(taken)
        for samples in by_day.values():
            day = day_of(samples[0].time_us)
            for model in names:
                write_segment(model_folder(root, model, resources=True) / f"date={day.isoformat()}",
                              self.table(samples, model))
                written += 1
        self._buffer = []
        return written

    def table(self, samples: list[ResourceSample], model: str) -> pa.Table:
        data: dict[str, list[Any]] = {
            "time": [s.time_us for s in samples], "model": [model] * len(samples),
            "host": [self.host] * len(samples), "pid": [s.pid for s in samples],
            "cpu_seconds": [s.cpu_seconds for s in samples], "cpu_share": [s.cpu_share for s in samples],
            "rss_bytes": [s.rss_bytes for s in samples]}
        return pa.table(data, schema=SCHEMA)


def empty_resources() -> pd.DataFrame:
    """A resource frame with no rows, its columns typed as the segments' are."""
    frame: pd.DataFrame = SCHEMA.empty_table().to_pandas()
    return frame
