"""Delayed ground truth: store ``{id, label}`` and ``{id, outcome}`` rows, and say how they meet the log.

Every valid row is stored, whether or not its id names a logged prediction: an unknown id may
belong to a prediction not flushed yet, and a later ``joined`` finds it then. The receipt counts
the ids that join, those the log's sampling left out, and the unknown ones (with a few examples),
so a caller sending ids from the wrong model or column hears about it at once. Within one
submission the last row for an id wins; across submissions the latest received does (``joined``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modelport.errors import Problem, SchemaError
from modelport.predictions.reader import IdMatch, TimeLike, match_ids
from modelport.predictions.records import now_us, to_us
from modelport.predictions.segments import check_model, day_of, model_folder, write_segment
from modelport.predictions.tables import to_arrow

_TIME = pa.timestamp("us", tz="UTC")
Values = Sequence[Any] | np.ndarray | pd.Series


@dataclass(frozen=True)
class FeedbackReceipt:
    """What happened to one submission of feedback."""

    model: str
    #: rows stored (after the last row per id won)
    stored: int
    match: IdMatch
    segment: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "stored": self.stored, **self.match.to_dict(),
                "segment": None if self.segment is None else str(self.segment)}


def _rows(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(mask))


def _missing(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.isna(pd.Series(values, dtype=object)), dtype=bool)


def _check(ids: np.ndarray, columns: dict[str, np.ndarray]) -> list[Problem]:
    problems = []
    if not len(ids):
        return [Problem("id", "no feedback rows")]
    not_text = np.fromiter((not (isinstance(i, str) and i) for i in ids), dtype=bool, count=len(ids))
    if not_text.any():
        problems.append(Problem("id", "must be a non-empty prediction id", _rows(not_text)))
    for name, values in columns.items():
        if len(values) != len(ids):
            problems.append(Problem(name, f"has {len(values)} values for {len(ids)} ids"))
    if problems:
        return problems
    missing = [_missing(values) for values in columns.values()]
    empty = np.logical_and.reduce(missing)
    if empty.any():
        field = " and ".join(columns)
        problems.append(Problem(field, "missing: a feedback row needs a value", _rows(empty)))
    return problems


def feedback_table(ids: Values, labels: Values | None = None, outcomes: Values | None = None,
                   received_us: int | None = None) -> pa.Table:
    """Validated feedback as a table of ``id``, ``label`` and/or ``outcome`` and ``received``.

    Raises SchemaError naming every problem: no rows, ids that are not text, lengths that differ,
    rows with neither a label nor an outcome.
    """
    columns = {name: np.asarray(values if isinstance(values, np.ndarray | pd.Series) else list(values),
                                dtype=None if isinstance(values, np.ndarray | pd.Series) else object)
               for name, values in (("label", labels), ("outcome", outcomes)) if values is not None}
    if not columns:
        raise SchemaError([Problem("label", "give labels or outcomes (or both)")])
    id_values = np.asarray(list(ids), dtype=object)
    problems = _check(id_values, columns)
    if problems:
        raise SchemaError(problems)
    last = ~pd.Series(id_values).duplicated(keep="last").to_numpy()
    when = now_us() if received_us is None else received_us
    data: dict[str, pa.Array] = {"id": pa.array(id_values[last].tolist(), type=pa.string())}
    for name, values in columns.items():
        data[name] = to_arrow(values[last])
    data["received"] = pa.array(np.full(int(last.sum()), when, dtype=np.int64)).cast(_TIME)
    return pa.table(data)


class FeedbackStore:
    """Feedback segments under ``root/feedback/model=<name>/date=<day received>/``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def write(self, model: str, table: pa.Table) -> Path:
        """Store a table that ``feedback_table`` made; return the segment."""
        received = table.column("received")[0].value
        folder = model_folder(self.root, check_model(model), feedback=True)
        return write_segment(folder / f"date={day_of(received).isoformat()}", table)

    def add(self, model: str, ids: Values, *, labels: Values | None = None, outcomes: Values | None = None,
            received: datetime | None = None, match_since: TimeLike | None = None) -> FeedbackReceipt:
        """Validate and store feedback for ``model``, then match its ids against the log.

        ``match_since`` limits the search of the log to predictions made since then (the log's day
        folders before it are not opened): a server answering one label at a time sets it.
        """
        check_model(model)
        when = to_us(received) if received is not None else to_us(datetime.now(UTC))
        table = feedback_table(ids, labels, outcomes, when)
        segment = self.write(model, table)
        match = match_ids(self.root, model, table.column("id").to_pylist(), since=match_since)
        return FeedbackReceipt(model=model, stored=table.num_rows, match=match, segment=segment)
