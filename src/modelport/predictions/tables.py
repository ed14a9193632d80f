"""Turn queued prediction batches into one Arrow table, column by column (on the writer thread).

The request path only queues batches; this module pays for the conversion, in bulk: the batches
that share a layout (the same input columns and class labels) are concatenated per column with
numpy and converted to Arrow once, so a flush of ten thousand one-row requests converts each
column once rather than ten thousand small frames. A column whose values Arrow cannot give one
type (an int in one request, text in the next) is stored as text rather than lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modelport.predictions.policy import Privacy
from modelport.predictions.records import INPUT_PREFIX, PREDICTION, PROBA_PREFIX, PredictionBatch

#: below this many rows a frame is boxed in one call (cheaper); above, taken column by column (typed)
_SMALL_FRAME = 64
_TIME = pa.timestamp("us", tz="UTC")


@dataclass(slots=True)
class Entry:
    """A batch as queued: its ids, the rows sampling kept (None: all), when and at what rate."""

    batch: PredictionBatch
    ids: list[str]
    keep: np.ndarray | None
    time_us: int
    sample_rate: float
    rows: int


def _input_columns(batch: PredictionBatch) -> list[np.ndarray]:
    inputs = batch.inputs
    if inputs is None:
        return []
    if isinstance(inputs, pd.DataFrame):
        if len(inputs) < _SMALL_FRAME:
            boxed = inputs.to_numpy(dtype=object)
            return [boxed[:, j] for j in range(boxed.shape[1])]
        return [series.to_numpy() for _, series in inputs.items()]
    if isinstance(inputs, np.ndarray):
        matrix = inputs.reshape(-1, 1) if inputs.ndim == 1 else inputs
        return [matrix[:, j] for j in range(matrix.shape[1])]
    return [v if isinstance(v, np.ndarray) else np.asarray(v, dtype=object) for v in inputs.values()]


def _outputs(entry: Entry, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    batch = entry.batch
    if batch.predictions is None:
        values = np.full(n, None, dtype=object)
    else:
        values = batch.predictions if isinstance(batch.predictions, np.ndarray) \
            else np.asarray(batch.predictions, dtype=object)
    if len(values) != n:
        raise ValueError(f"{len(values)} predictions for {n} input rows")
    proba = batch.probabilities if batch.labels is not None else None
    if proba is not None and proba.shape != (n, len(batch.labels or ())):
        raise ValueError(f"probabilities of shape {proba.shape} for {n} rows and "
                         f"{len(batch.labels or ())} labels")
    return values, proba


def _layout(entry: Entry) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    batch = entry.batch
    labels = None if batch.labels is None or batch.probabilities is None \
        else tuple(str(label) for label in batch.labels)
    return batch.input_names(), labels


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def to_arrow(values: np.ndarray) -> pa.Array:
    """One column as Arrow: its own type when it has one, else the text of each value."""
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        array = pa.array([None if _missing(v) else str(v) for v in values], type=pa.string())
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _group_table(entries: Sequence[Entry], names: tuple[str, ...], labels: tuple[str, ...] | None,
                 privacy: Privacy) -> pa.Table:
    sizes = np.array([e.rows for e in entries])
    inputs: list[list[np.ndarray]] = [[] for _ in names]
    predictions: list[np.ndarray] = []
    probabilities: list[np.ndarray] = []
    ids: list[str] = []
    for entry in entries:
        n = len(entry.batch)
        columns = _input_columns(entry.batch)
        if len(columns) != len(names) or any(len(c) != n for c in columns):
            raise ValueError("input columns of unequal length")
        values, proba = _outputs(entry, n)
        keep = entry.keep
        if keep is not None:
            columns = [c[keep] for c in columns]
            values = values[keep]
            proba = None if proba is None else proba[keep]
        for slot, column in zip(inputs, columns, strict=True):
            slot.append(column)
        predictions.append(values)
        if proba is not None:
            probabilities.append(proba)
        ids.extend(entry.ids if keep is None else [i for i, k in zip(entry.ids, keep, strict=True) if k])

    def repeat(field: str) -> pa.Array:
        return pa.array(np.repeat(np.array([getattr(e.batch, field) for e in entries], dtype=object), sizes),
                        type=pa.string())

    data: dict[str, pa.Array] = {
        "id": pa.array(ids, type=pa.string()),
        "time": pa.array(np.repeat(np.array([e.time_us for e in entries], dtype=np.int64), sizes),
                         type=pa.int64()).cast(_TIME),
        "endpoint": repeat("endpoint"), "model": repeat("model"), "version": repeat("version"),
        "role": repeat("role"), "protocol": repeat("protocol"),
        "status": pa.array(np.repeat(np.array([e.batch.status for e in entries], dtype=np.int64), sizes)),
        "latency_ms": pa.array(np.repeat(np.array([e.batch.latency_ms for e in entries], dtype=np.float64),
                                         sizes)),
        "sample_rate": pa.array(np.repeat(np.array([e.sample_rate for e in entries]), sizes)),
    }
    for name, parts in zip(names, inputs, strict=True):
        if privacy.keeps(name):
            data[INPUT_PREFIX + name] = to_arrow(privacy.apply(name, _concat(parts)))
    data[PREDICTION] = to_arrow(_concat(predictions))
    if labels is not None:
        matrix = np.concatenate(probabilities).astype(np.float64, copy=False)
        for j, label in enumerate(labels):
            data[PROBA_PREFIX + label] = pa.array(matrix[:, j])
    return pa.table(data)


def build_tables(entries: Sequence[Entry], privacy: Privacy) -> list[tuple[pa.Table, list[Entry]]]:
    """The rows the entries keep, each table with the entries it holds: one table, or one per layout
    when their column types clash (an int column in one layout is text in another).

    Raises when any entry is malformed (row counts that disagree); the writer then converts the
    entries one by one to set the bad one aside.
    """
    groups: dict[tuple[tuple[str, ...], tuple[str, ...] | None], list[Entry]] = {}
    for entry in entries:
        groups.setdefault(_layout(entry), []).append(entry)
    tables = [(_group_table(group, names, labels, privacy), group)
              for (names, labels), group in groups.items()]
    if len(tables) == 1:
        return tables
    try:
        return [(pa.concat_tables([t for t, _ in tables], promote_options="permissive"), list(entries))]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return tables
