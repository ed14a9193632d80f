"""Batch runs in the prediction log: one segment per scored chunk, named after its run and its chunk.

A batch run logs per row what the server logs (id, time, endpoint, model, version, role ``batch``,
inputs, prediction, probabilities, status, latency), arranged so that a resumed run logs each row
exactly once:

- a row's id is ``<run id>-<row number>``, or ``<run id>-<value of the id column>`` with one: the
  same row of the same run gets the same id however often it is scored, so sampling (decided by
  the hash of the id) keeps the same rows, and feedback joins by an id anyone can rebuild from the
  run id and the row;
- every row of a run takes the run's start as its time, and the segment of a chunk is
  ``batch-<run id>-<chunk>.parquet`` in that day's folder: a chunk scored again after a crash
  replaces its own segment (atomically, see ``segments``) instead of adding its rows twice.

The caller writes synchronously; batch workers call ``write`` from a thread beside their scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelport.predictions.policy import Privacy, sample_mask
from modelport.predictions.records import PredictionBatch, Role
from modelport.predictions.segments import SUFFIX, check_model, day_of, model_folder, write_segment
from modelport.predictions.tables import Entry, build_tables

#: what a batch segment's name starts with (the server's segments start with their time)
PREFIX = "batch-"
#: the ``protocol`` field of batch rows
PROTOCOL = "batch"


@dataclass(frozen=True)
class BatchLog:
    """Where and as what one batch run logs its predictions; plain data, sent to every worker."""

    root: str
    model: str
    version: str
    run_id: str
    #: the run's start, in microseconds since the epoch: the time of every row it logs
    time_us: int
    sample_rate: float = 1.0
    exclude: tuple[str, ...] = ()
    hash: tuple[str, ...] = ()
    salt: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError(f"the log sample rate must lie in [0, 1], got {self.sample_rate}")
        check_model(self.model)

    def ids(self, keys: Sequence[Any] | np.ndarray) -> list[str]:
        """The prediction id of each row: the run id and the row's number or id-column value."""
        return [f"{self.run_id}-{key}" for key in keys]

    def segment(self, chunk: str) -> Path:
        """The segment that holds chunk ``chunk`` (``part-000003``) of this run."""
        folder = model_folder(Path(self.root), self.model) / f"date={day_of(self.time_us).isoformat()}"
        return folder / f"{PREFIX}{self.run_id}-{chunk}{SUFFIX}"

    def drop_unfinished(self, finished: set[str]) -> int:
        """Remove this run's segments of chunks not in ``finished`` (a stopped run wrote them, but
        never recorded the chunk); return how many."""
        folder = self.segment("x").parent
        if not folder.is_dir():
            return 0
        prefix = f"{PREFIX}{self.run_id}-"
        stale = [p for p in folder.glob(f"{prefix}*{SUFFIX}")
                 if p.name.removeprefix(prefix).removesuffix(SUFFIX) not in finished]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def write(self, chunk: str, inputs: pd.DataFrame, keys: Sequence[Any] | np.ndarray,
              predictions: np.ndarray, probabilities: np.ndarray | None = None,
              labels: Sequence[Any] | None = None, latency_ms: float = 0.0) -> int:
        """Write the sampled rows of one scored chunk as its segment; return how many were kept."""
        ids = self.ids(keys)
        keep = None if self.sample_rate >= 1.0 else sample_mask(ids, self.sample_rate)
        kept = len(ids) if keep is None else int(keep.sum())
        if kept == 0:
            return 0
        batch = PredictionBatch(
            endpoint=self.model, model=self.model, version=self.version, inputs=inputs,
            predictions=predictions, probabilities=probabilities,
            labels=labels if probabilities is not None else None, role=Role.BATCH, protocol=PROTOCOL,
            latency_ms=latency_ms, ids=ids)
        privacy = Privacy(frozenset(self.exclude), frozenset(self.hash), self.salt)
        tables = build_tables([Entry(batch, ids, keep, self.time_us, self.sample_rate, kept)], privacy)
        path = self.segment(chunk)
        write_segment(path.parent, tables[0][0], name=path.name)
        return kept
