"""Turn queued prediction batches into Arrow tables, column by column (on the writer thread).

The request path only queues batches; this module pays for the conversion, in bulk: batches that
share a layout (the same kind of input, input columns and class labels) are gathered per column
(Python lists extended in place, matrices stacked once) and each column is converted to Arrow
once, so a flush of ten thousand one-row requests converts each column once rather than ten
thousand small frames. The cheapest inputs to gather are the decoded request itself (columns,
records or a matrix); a DataFrame costs a pandas call per request. A column whose values Arrow
cannot give one type (an int in one request, text in the next) is stored as text rather than lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modelport.predictions.policy import Privacy
from modelport.predictions.records import INPUT_PREFIX, PREDICTION, PRIMARY_ID, PROBA_PREFIX, PredictionBatch

#: below this many rows a frame is boxed in one call (cheaper); above, taken column by column (typed)
_SMALL_FRAME = 64
_TIME = pa.timestamp("us", tz="UTC")

Layout = tuple[str, tuple[str, ...], tuple[str, ...] | None]


@dataclass(slots=True)
class Entry:
    """A batch as queued: its ids, the rows sampling kept (None: all), when and at what rate."""

    batch: PredictionBatch
    ids: list[str]
    keep: np.ndarray | None
    time_us: int
    sample_rate: float
    rows: int


def _combine(parts: Sequence[Any]) -> list[Any] | np.ndarray:
    """One column from its parts: arrays concatenated, Python lists chained, a mix as objects."""
    if len(parts) == 1:
        return parts[0]  # type: ignore[no-any-return]
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts)
    if all(isinstance(p, list) for p in parts):
        return list(itertools.chain.from_iterable(parts))
    return np.concatenate([p if isinstance(p, np.ndarray) else _objects(p) for p in parts])


def _objects(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values  # element by element: a value that is itself a list stays one value
    return out


def _kind(inputs: Any) -> str:
    kind = type(inputs)
    if kind is list:  # the common cases first: isinstance against an ABC costs a microsecond
        return "records"
    if kind is dict:
        return "columns"
    if inputs is None:
        return "none"
    if isinstance(inputs, pd.DataFrame):
        return "frame"
    if isinstance(inputs, np.ndarray):
        return "matrix"
    if isinstance(inputs, Mapping):
        return "columns"
    return "records"


def _names(batch: PredictionBatch, kind: str) -> tuple[str, ...]:
    inputs: Any = batch.inputs
    if kind == "frame":
        return tuple(str(c) for c in inputs.columns)
    if kind == "matrix":
        if batch.columns is not None:
            return tuple(batch.columns)
        return tuple(str(i) for i in range(inputs.shape[1] if inputs.ndim == 2 else 1))
    if kind == "columns":
        return tuple(inputs)
    if kind == "records":
        if len(inputs) == 1:
            return tuple(inputs[0])
        return tuple(dict.fromkeys(itertools.chain.from_iterable(inputs)))
    return ()


class _Layouts:
    """The layout of each entry, with the names and labels of objects seen before reused."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[Any, tuple[str, ...]]] = {}
        # the layout of matrix entries by the identity of their columns and labels objects
        self._matrices: dict[tuple[int, int], tuple[Any, Any, Layout]] = {}

    def _cached(self, key: Any, make: Any) -> tuple[str, ...]:
        # the same columns/labels object arrives with every request of a model: convert it once
        # (the entries keep it alive for the whole flush, so its id is not reused meanwhile)
        hit = self._seen.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        value: tuple[str, ...] = make()
        self._seen[id(key)] = (key, value)
        return value

    def of(self, entry: Entry) -> Layout:
        batch = entry.batch
        columns, labels = batch.columns, batch.labels if batch.probabilities is not None else None
        if type(batch.inputs) is np.ndarray and columns is not None:  # serving's numeric requests
            key = (id(columns), id(labels))
            hit = self._matrices.get(key)
            if hit is not None and hit[0] is columns and hit[1] is labels:
                return hit[2]
            layout = self._of(entry)
            self._matrices[key] = (columns, labels, layout)
            return layout
        return self._of(entry)

    def _of(self, entry: Entry) -> Layout:
        batch = entry.batch
        kind = _kind(batch.inputs)
        if kind == "matrix" and batch.columns is not None:
            names = self._cached(batch.columns, lambda: tuple(str(c) for c in batch.columns or ()))
        elif kind == "frame":
            frame: Any = batch.inputs
            names = self._cached(frame.columns, lambda: _names(batch, kind))
        else:
            names = _names(batch, kind)
        labels = None
        if batch.labels is not None and batch.probabilities is not None:
            given = batch.labels
            labels = self._cached(given, lambda: tuple(str(label) for label in given))
        return kind, names, labels


def _column_part(value: Any) -> Any:
    if isinstance(value, np.ndarray | list):
        return value
    if isinstance(value, pd.Series):
        return value.to_numpy()
    return list(value) if isinstance(value, tuple) else [value]


def _gather_inputs(entries: Sequence[Entry], kind: str, names: tuple[str, ...]) -> list[Any]:
    """Every row of the entries (sampled out or not), one list or array per input column."""
    batches = [e.batch for e in entries]
    inputs: list[Any] = [b.inputs for b in batches]
    if kind == "matrix":
        stacked = _stack(inputs, batches)
        return [stacked[:, j] for j in range(len(names))]
    if kind == "records":
        rows = list(itertools.chain.from_iterable(inputs))
        return [[row.get(name) for row in rows] for name in names]
    if kind == "columns":
        return [_combine([_column_part(columns[name]) for columns in inputs]) for name in names]
    if kind == "frame":
        if all(len(f) < _SMALL_FRAME for f in inputs):
            boxed = _combine([f.to_numpy(dtype=object) for f in inputs])
            return [boxed[:, j] for j in range(len(names))]  # type: ignore[call-overload]
        frames = [[series.to_numpy() for _, series in f.items()] for f in inputs]
        return [_combine([columns[j] for columns in frames]) for j in range(len(names))]
    return []


def _stack(matrices: list[Any], batches: Sequence[PredictionBatch]) -> np.ndarray:
    """The rows of every entry's matrix, one under the other, each column contiguous (for Arrow)."""
    parts: list[np.ndarray] = matrices  # serving's (1, k) rows and model calls: as they are
    if not all(type(m) is np.ndarray and m.ndim == 2 for m in matrices):
        parts = [np.asarray(m).reshape(len(b), -1) for m, b in zip(matrices, batches, strict=True)]
    first = parts[0]
    if first.dtype != object:
        # straight into column order: half the time of stacking, then reordering (15,000 rows of 30
        # floats: 1.9 against 4.5 ms); parts of another type than the first take the way below
        out = np.empty((sum(len(p) for p in parts), first.shape[1]), dtype=first.dtype, order="F")
        try:
            return np.concatenate(parts, out=out, casting="no")
        except (TypeError, ValueError):
            pass
    return np.asfortranarray(np.concatenate(parts))


def _predictions(batches: Sequence[PredictionBatch]) -> list[Any] | np.ndarray:
    values = [b.predictions for b in batches]
    arrays = [v for v in values if type(v) is np.ndarray and v.ndim == 1]
    if len(arrays) == len(values):
        return np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
    return _combine([[None] * len(b) if b.predictions is None else _column_part(b.predictions)
                     for b in batches])


def _text(values: list[Any], sizes: np.ndarray) -> pa.Array:
    """A text column of per-entry values repeated per row; one call when they are all the same
    (endpoint, model, version, role and protocol nearly always are within a flush)."""
    first = values[0]
    if values.count(first) == len(values) and (first is None or isinstance(first, str)):
        return pa.repeat(pa.scalar(first, type=pa.string()), int(sizes.sum()))
    return pa.array(_repeat(values, sizes, object), type=pa.string())


def _masked(values: Any, keep: np.ndarray | None) -> Any:
    if keep is None:
        return values
    if isinstance(values, np.ndarray):
        return values[keep]
    return list(itertools.compress(values, keep))


def to_arrow(values: list[Any] | np.ndarray) -> pa.Array:
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


def _repeat(values: list[Any], sizes: np.ndarray, dtype: Any) -> np.ndarray:
    return np.repeat(np.array(values, dtype=dtype), sizes)


def _latencies(batches: Sequence[PredictionBatch], sizes: np.ndarray, rows: int,
               keep: np.ndarray | None) -> pa.Array:
    values = [b.latency_ms for b in batches]
    if not any(type(v) is np.ndarray for v in values):
        return pa.array(_repeat(values, sizes, np.float64))
    per_row = np.concatenate([np.asarray(v, dtype=np.float64).reshape(-1) if type(v) is np.ndarray
                              else np.full(len(b), v, dtype=np.float64)
                              for v, b in zip(values, batches, strict=True)])
    return pa.array(_masked(_checked("latencies", per_row, rows), keep))


def _checked(name: str, values: Any, rows: int) -> Any:
    if len(values) != rows:
        raise ValueError(f"{name} has {len(values)} values for {rows} rows")
    return values


def _group_table(entries: Sequence[Entry], layout: Layout, privacy: Privacy) -> pa.Table:
    kind, names, labels = layout
    batches = [e.batch for e in entries]
    sizes = np.array([len(b) for b in batches])
    rows = int(sizes.sum())
    keep = None
    if any(e.keep is not None for e in entries):
        keep = np.concatenate([np.ones(len(e.batch), dtype=bool) if e.keep is None else e.keep
                               for e in entries])
        sizes = np.array([e.rows for e in entries])
    data: dict[str, pa.Array] = {
        "id": pa.array(_masked(_checked("ids", _combine([e.ids for e in entries]), rows), keep),
                       type=pa.string()),
        "time": pa.array(_repeat([e.time_us for e in entries], sizes, np.int64)).cast(_TIME),
    }
    for field in ("endpoint", "model", "version", "role", "protocol"):
        data[field] = _text([getattr(b, field) for b in batches], sizes)
    data["status"] = pa.array(_repeat([b.status for b in batches], sizes, np.int64))
    data["latency_ms"] = _latencies(batches, sizes, rows, keep)
    data["sample_rate"] = pa.array(_repeat([e.sample_rate for e in entries], sizes, np.float64))
    if any(b.primary_ids is not None for b in batches):
        links = _combine([[None] * len(b) if b.primary_ids is None else list(b.primary_ids) for b in batches])
        data[PRIMARY_ID] = pa.array(_masked(_checked("primary ids", links, rows), keep), type=pa.string())
    for name, column in zip(names, _gather_inputs(entries, kind, names), strict=True):
        _checked(f"input {name!r}", column, rows)
        if privacy.keeps(name):
            data[INPUT_PREFIX + name] = to_arrow(privacy.apply(name, _masked(column, keep)))
    data[PREDICTION] = to_arrow(_masked(_checked("predictions", _predictions(batches), rows), keep))
    if labels is not None:
        proba = [b.probabilities for b in batches]
        matrix = _checked("probabilities", _combine(proba), rows)  # type: ignore[arg-type]
        if matrix.ndim != 2 or matrix.shape[1] != len(labels):
            raise ValueError(f"probabilities of shape {matrix.shape} for {len(labels)} labels")
        matrix = _masked(np.asarray(matrix, dtype=np.float64), keep)
        for j, label in enumerate(labels):
            data[PROBA_PREFIX + label] = pa.array(matrix[:, j])
    return pa.table(data)


def build_tables(entries: Sequence[Entry], privacy: Privacy) -> list[tuple[pa.Table, list[Entry]]]:
    """The rows the entries keep, each table with the entries it holds: one table, or one per layout
    when their column types clash (an int column in one layout is text in another).

    Raises when any entry is malformed (row counts that disagree); the writer then converts the
    entries one by one to set the bad one aside.
    """
    layouts = _Layouts()
    groups: dict[Layout, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(layouts.of(entry), []).append(entry)
    tables = [(_group_table(group, layout, privacy), group) for layout, group in groups.items()]
    if len(tables) == 1:
        return tables
    try:
        return [(pa.concat_tables([t for t, _ in tables], promote_options="permissive"), list(entries))]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return tables
