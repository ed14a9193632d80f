"""Read CSV text fields as the values the signature expects, leaving unreadable ones as text.

CSV holds only text, so reading ``"2.5"`` as a number is the parse, not a coercion. A field that
does not read as its column's kind stays the string it was, and validation rejects that row with
the reason (``expected a number, got str 'abc'``) instead of the whole file failing to load.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from modelport.core.schema import ColumnKind, ColumnSpec, Signature

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _cast(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pd.Series | None:
    try:
        cast: pd.Series = column.cast(target).to_pandas()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return cast


def _text(column: pa.Array | pa.ChunkedArray) -> pd.Series:
    text: pd.Series = column.to_pandas()
    return text


def _numbers(column: pa.Array | pa.ChunkedArray, kind: ColumnKind) -> pd.Series:
    whole = _cast(column, pa.int64()) if kind is ColumnKind.INT else None
    if whole is not None:
        return whole
    fractional = _cast(column, pa.float64())
    if fractional is not None:
        return fractional
    text = _text(column)
    parsed = pd.to_numeric(text, errors="coerce")
    unread = parsed.isna() & text.notna()
    mixed = parsed.astype(object)
    mixed[unread] = text[unread]
    return mixed


def _boolean(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


def _booleans(column: pa.Array | pa.ChunkedArray) -> pd.Series:
    cast = _cast(column, pa.bool_())
    return cast if cast is not None else _text(column).map(_boolean)


def _categories(column: pa.Array | pa.ChunkedArray, spec: ColumnSpec) -> pd.Series:
    text = _text(column)
    levels = list(spec.levels or ())
    if all(isinstance(level, str) for level in levels):
        return text
    by_text = {str(level): level for level in levels}
    return text.map(lambda v: by_text.get(v, v) if isinstance(v, str) else v)


def read_text_column(column: pa.Array | pa.ChunkedArray, spec: ColumnSpec) -> pd.Series:
    """One CSV column of text (nulls for empty fields) as the values ``spec`` expects."""
    if spec.kind in (ColumnKind.FLOAT, ColumnKind.INT):
        return _numbers(column, spec.kind)
    if spec.kind is ColumnKind.BOOL:
        return _booleans(column)
    if spec.kind is ColumnKind.CATEGORY:
        return _categories(column, spec)
    return _text(column)  # strings as they are; datetimes are read by validation (ISO-8601)


def read_text_table(table: pa.Table, signature: Signature) -> pd.DataFrame:
    """A table whose signature columns hold CSV text, as a frame of the values they spell."""
    specs = {spec.name: spec for spec in signature.inputs}
    columns: dict[str, pd.Series] = {}
    for name in table.column_names:
        column = table.column(name)
        spec = specs.get(name)
        columns[name] = read_text_column(column, spec) if spec else _text(column)
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))
