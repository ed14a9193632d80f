"""The prediction log's writer: ``submit`` queues a batch and returns; a thread writes Parquet segments.

The request path pays for drawing ids, the sampling decision and one append under a lock; the
writer thread wakes every ``flush_interval_s`` (sooner when the queue is half full), converts what
has queued in bulk and writes one segment per model and day. The queue is bounded by rows: when a
batch would overflow it, that batch is dropped (drop newest: the rows already acknowledged to the
writer stay), counted, and ``submit`` still returns at once. Nothing on the request path raises.

Durability: a segment is either whole on disk or absent (see ``segments``), so a process killed
with SIGKILL loses at most what was submitted since the last flush began; ``close`` (call it on
SIGTERM, after draining requests) writes everything queued. A write that fails (disk full) keeps
its rows queued, where they count against the bound, and is retried at the next flush.

A second thread compacts the closed days of the models the log writes, a step at a time (see
``compact``), so a day of steady traffic does not stay 86,400 one-second segments; it runs beside
the writer so a flush never waits for it.

With ``resource_interval_s`` set, the writer thread also samples this process's CPU and memory and
writes the samples beside the predictions (see ``resources``), so reports show the resource use of
the serving processes from the log alone.

One log per process: the thread does not survive a fork, so a server creates it in each worker.
On SIGTERM, let the handler set a flag (as uvicorn's does) and call ``close`` from the main flow:
a handler runs between two bytecodes of whatever the main thread was doing, possibly a ``submit``
that holds the queue's lock, which ``close`` needs.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from modelport.errors import ConfigError
from modelport.predictions.compact import closed_days, compact_step
from modelport.predictions.policy import Privacy, sample_mask, sampled_in
from modelport.predictions.records import PredictionBatch, new_ids, now_us, to_us
from modelport.predictions.resources import ResourceSampler
from modelport.predictions.segments import DAY_US, day_of, model_folder, write_segment
from modelport.predictions.tables import Entry, build_tables

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogStats:
    """Counters of one log since it opened, in rows (what serving exports as metrics)."""

    #: rows written to segments
    written: int = 0
    #: rows dropped because the queue was full or the log closed
    dropped: int = 0
    #: rows left out by sampling
    sampled_out: int = 0
    #: rows that could not be stored: a malformed batch, a bad model name, a write failing at close
    failed: int = 0
    #: rows waiting to be written (the queue depth)
    queued: int = 0
    #: segments written
    segments: int = 0
    #: flushes whose write failed and whose rows were kept for the next one
    write_errors: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class PredictionLog:
    """Log predictions to Parquet segments under ``root`` without ever blocking the caller.

    ``exclude``: input columns never stored; ``hash``: input columns stored as salted sha256
    digests (``salt`` should be a secret of the deployment); ``sample_rate``: the share of rows
    kept, decided by the hash of each id (``policy.sampled_in``); ``resource_interval_s``: how often
    to sample this process's CPU and memory into the log (None: never), written every
    ``resource_write_s``.
    """

    def __init__(self, root: str | Path, *, flush_interval_s: float = 1.0, max_queue_rows: int = 100_000,
                 sample_rate: float = 1.0, exclude: Iterable[str] = (), hash: Iterable[str] = (),
                 salt: str = "", resource_interval_s: float | None = None,
                 resource_write_s: float = 60.0) -> None:
        if not flush_interval_s > 0:
            raise ConfigError(f"flush_interval_s must be positive, got {flush_interval_s!r}")
        if max_queue_rows < 1:
            raise ConfigError(f"max_queue_rows must be at least 1, got {max_queue_rows!r}")
        if not 0.0 <= sample_rate <= 1.0:
            raise ConfigError(f"sample_rate must lie in [0, 1], got {sample_rate!r}")
        if resource_interval_s is not None and not resource_interval_s > 0:
            raise ConfigError(f"resource_interval_s must be positive, got {resource_interval_s!r}")
        self.root = Path(root)
        self.flush_interval_s = float(flush_interval_s)
        self.max_queue_rows = int(max_queue_rows)
        self.sample_rate = float(sample_rate)
        self.privacy = Privacy(frozenset(exclude), frozenset(hash), salt)
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._queue: list[Entry] = []
        self._counts = dict.fromkeys(LogStats().to_dict(), 0)
        self._high_water = max(1, self.max_queue_rows // 2)
        self._closed = False
        self._rejected_logged = False
        self._models: set[str] = set()  # the models written (under the lock)
        # the compaction thread's own state: models planned today, closed days still to compact
        self._planned: set[str] = set()
        self._pending: list[tuple[str, date, bool, bool]] = []
        self._compacted_on: date | None = None
        self._resources = (ResourceSampler(resource_interval_s, resource_write_s)
                           if resource_interval_s is not None else None)
        self._stop_compacting = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modelport-prediction-log", daemon=True)
        self._compactor = threading.Thread(target=self._compact_run, daemon=True,
                                           name="modelport-prediction-log-compaction")
        self._thread.start()
        self._compactor.start()
        atexit.register(self.close)

    # -- the request path ------------------------------------------------------------------------

    def submit(self, batch: PredictionBatch) -> list[str]:
        """Queue one request's predictions; return the id of each row. Never blocks, never raises."""
        ids: list[str] = []
        try:
            n = len(batch)
            ids = list(batch.ids) if batch.ids is not None else new_ids(n)
            if len(ids) != n:
                raise ValueError(f"{len(ids)} ids for {n} rows")
            keep: np.ndarray | None = None
            rows = n
            if self.sample_rate < 1.0:
                if n == 1:
                    rows = int(sampled_in(ids[0], self.sample_rate))
                else:
                    keep = sample_mask(ids, self.sample_rate)
                    rows = int(keep.sum())
                    if rows == n:
                        keep = None
            when = now_us() if batch.time is None else to_us(batch.time)
            with self._lock:
                self._counts["sampled_out"] += n - rows
                if rows == 0:
                    return ids
                if self._closed or self._counts["queued"] + rows > self.max_queue_rows:
                    self._counts["dropped"] += rows
                    return ids
                self._queue.append(Entry(batch, ids, keep, when, self.sample_rate, rows))
                self._counts["queued"] += rows
                wake = self._counts["queued"] >= self._high_water
            if wake:
                self._wake.set()
        except Exception:
            self._reject(batch)
        return ids

    def _reject(self, batch: PredictionBatch) -> None:
        try:
            rows = len(batch)
        except Exception:
            rows = 1
        with self._lock:
            self._counts["failed"] += rows
            first = not self._rejected_logged
            self._rejected_logged = True
        if first:  # once with the traceback; the failed counter tells the rest
            log.exception("prediction log: a batch could not be queued and is counted as failed")

    def stats(self) -> LogStats:
        with self._lock:
            return LogStats(**self._counts)

    # -- the writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        due = time.monotonic() + self.flush_interval_s
        while True:
            wait = due - time.monotonic()
            if self._resources is not None:  # a resource sample may fall due before the next flush
                wait = min(wait, self._resources.due_in())
            woken = self._wake.wait(max(0.0, wait))
            self._wake.clear()
            stopping = self._closed
            if woken or stopping or time.monotonic() >= due:
                started = time.monotonic()
                self.flush()
                due = started + self.flush_interval_s
            self._sample_resources(stopping)
            if stopping:
                return

    def _sample_resources(self, final: bool = False) -> None:
        """Sample this process when due and write the samples when due (or ``final``); never raises."""
        sampler = self._resources
        if sampler is None:
            return
        try:
            if final:
                sampler.sample()
            else:
                sampler.tick()
            if final or sampler.write_due():
                with self._lock:
                    models = set(self._models)
                sampler.write(self.root, models)
        except Exception:
            log.exception("prediction log: sampling or writing resource use failed")

    def _compact_run(self) -> None:
        """The compaction thread: closed days of the models this log wrote, a step at a time, beside
        the writer thread so that compacting never delays a flush."""
        while not self._stop_compacting.wait(0.05 if self._pending else max(1.0, self.flush_interval_s)):
            try:
                self._compact_next()
            except Exception:
                log.exception("prediction log: compaction failed; the segments stay as they are")
                self._pending = []

    def _compact_next(self) -> None:
        today = datetime.now(UTC).date()
        if today != self._compacted_on:
            self._compacted_on, self._planned = today, set()
        with self._lock:
            models = self._models - self._planned
        kinds = ((False, False), (True, False), (False, True))  # predictions, feedback, resources
        for model in sorted(models):
            self._planned.add(model)
            self._pending += [(model, day, feedback, resources) for feedback, resources in kinds
                              for day in closed_days(self.root, model, before=today, feedback=feedback,
                                                     resources=resources)]
        if self._pending:
            model, day, feedback, resources = self._pending[0]
            _, more = compact_step(self.root, model, day, feedback=feedback, resources=resources)
            if not more:
                self._pending.pop(0)

    def flush(self) -> None:
        """Write everything queued now (the thread calls this every interval)."""
        with self._flushing:
            with self._lock:
                entries, self._queue = self._queue, []
            if not entries:
                return
            try:
                kept = self._write(entries)
            except Exception as exc:  # the writer thread must survive anything, a poison batch included
                log.exception("prediction log: flush failed")
                self._fail(entries, f"{type(exc).__name__}: {exc}")
                kept = []
            done = sum(e.rows for e in entries) - sum(e.rows for e in kept)
            with self._lock:
                self._queue[:0] = kept
                self._counts["queued"] -= done
                if kept:
                    self._counts["write_errors"] += 1

    def _write(self, entries: list[Entry]) -> list[Entry]:
        """Write one segment per model and day; return the entries whose write failed."""
        partitions: dict[tuple[str, int], list[Entry]] = {}
        for entry in entries:
            partitions.setdefault((entry.batch.model, entry.time_us // DAY_US), []).append(entry)
        retry: list[Entry] = []
        for (model, _), group in partitions.items():
            day = day_of(group[0].time_us)
            try:
                folder = model_folder(self.root, model)
            except Exception:
                self._fail(group, f"model name {model!r} cannot be a folder")
                continue
            folder = folder / f"date={day.isoformat()}"
            for table, written in self._tables(group):
                try:
                    write_segment(folder, table)
                except OSError:  # the disk, not the data: try again at the next flush
                    log.exception("prediction log: writing a segment to %s failed; retrying later", folder)
                    retry.extend(written)
                    continue
                except Exception as exc:  # the data: trying again would fail again
                    self._fail(written, f"{type(exc).__name__}: {exc}")
                    continue
                with self._lock:
                    self._models.add(model)
                    self._counts["written"] += table.num_rows
                    self._counts["segments"] += 1
        return retry

    def _tables(self, group: list[Entry]) -> list[tuple[pa.Table, list[Entry]]]:
        try:
            return build_tables(group, self.privacy)
        except Exception:
            good = [entry for entry in group if self._convertible(entry)]
        return build_tables(good, self.privacy) if good else []

    def _convertible(self, entry: Entry) -> bool:
        try:
            build_tables([entry], self.privacy)
        except Exception as exc:
            self._fail([entry], f"{type(exc).__name__}: {exc}")
            return False
        return True

    def _fail(self, entries: Sequence[Entry], reason: str) -> None:
        log.error("prediction log: %d rows of model %r not stored: %s",
                  sum(e.rows for e in entries), entries[0].batch.model, reason)
        with self._lock:
            self._counts["failed"] += sum(e.rows for e in entries)

    # -- closing ---------------------------------------------------------------------------------

    def close(self, timeout_s: float | None = None) -> LogStats:
        """Stop taking batches and write everything queued; safe to call twice.

        ``timeout_s``: how long to wait for the writer thread; rows it has not written by then stay
        counted as queued (and are lost when the process exits).
        """
        with self._lock:
            already = self._closed
            self._closed = True
        if not already:
            atexit.unregister(self.close)
            self._stop_compacting.set()
            self._wake.set()
            self._thread.join(timeout_s)
            self._compactor.join(timeout_s)
            if self._thread.is_alive():
                log.error("prediction log: still writing after %s s; %d rows not written",
                          timeout_s, self.stats().queued)
                return self.stats()
            self.flush()  # rows a failed write kept get one more try
            with self._lock:
                lost, self._queue = self._queue, []
                self._counts["queued"] -= sum(e.rows for e in lost)
            if lost:
                self._fail(lost, "the last write failed while closing")
        return self.stats()

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
