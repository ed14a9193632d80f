"""How a batch run reports itself: a rich progress bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from modelport.batch.job import BatchProgress, BatchSummary


def _line(progress: BatchProgress) -> str:
    of = f"/{progress.total:,}" if progress.total is not None else ""
    share = f" ({progress.rows / progress.total:.0%})" if progress.total else ""
    return (f"batch: {progress.rows:,}{of} rows{share}, {progress.rejected:,} rejected, "
            f"{progress.chunks:,} chunks, {progress.rows_per_second:,.0f} rows/s")


class ProgressView:
    """Receives a run's progress; use as a context manager around the run."""

    def __init__(self, console: Console, interval_s: float = 10.0) -> None:
        self.console = console
        self.interval_s = interval_s
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last_line = time.monotonic()

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn("scoring"), BarColumn(), TaskProgressColumn(),
                TextColumn("{task.completed:,.0f}{task.fields[of]} rows"),
                TextColumn("{task.fields[rate]} rows/s"), TextColumn("{task.fields[rejected]} rejected"),
                TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=False)
            self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, progress: BatchProgress) -> None:
        if self._bar is None:
            self._plain(progress)
            return
        of = f"/{progress.total:,}" if progress.total is not None else ""
        rate, rejected = f"{progress.rows_per_second:,.0f}", f"{progress.rejected:,}"
        if self._task is None:
            self._task = self._bar.add_task("scoring", total=progress.total, completed=progress.rows,
                                            of=of, rate=rate, rejected=rejected)
        else:
            self._bar.update(self._task, completed=progress.rows, of=of, rate=rate, rejected=rejected)

    def _plain(self, progress: BatchProgress) -> None:
        now = time.monotonic()
        finished = progress.total is not None and progress.rows >= progress.total
        if now - self._last_line >= self.interval_s or finished:
            self._last_line = now
            self.console.print(_line(progress), highlight=False)


def summary_line(summary: BatchSummary) -> str:
    resumed = f" ({summary.resumed_chunks} chunks from before the resume)" if summary.resumed_chunks else ""
    return (f"scored {summary.scored:,} of {summary.rows:,} rows, {summary.rejected:,} rejected "
            f"({summary.reject_rate:.2%}), {summary.chunks:,} chunks{resumed} in "
            f"{summary.seconds:,.1f} s: {summary.rows_per_second:,.0f} rows/s → {summary.output}")
