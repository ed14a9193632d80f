"""CSV text fields read as their column's kind; what does not read stays text for validation to reject."""

from __future__ import annotations

import math

import pyarrow as pa

from modelport.batch.text import read_text_column, read_text_table
from modelport.core.schema import ColumnKind, ColumnSpec, Signature


def _read(kind: ColumnKind, values: list[str | None], **spec: object) -> list[object]:
    column = read_text_column(pa.array(values, type=pa.string()), ColumnSpec("c", kind, **spec))
    return [None if isinstance(v, float) and math.isnan(v) else v for v in column.tolist()]


def test_numbers_read_and_unreadable_fields_stay_text() -> None:
    assert _read(ColumnKind.FLOAT, ["1.5", "-2e3", None]) == [1.5, -2000.0, None]
    assert _read(ColumnKind.FLOAT, ["1.5", "abc", None]) == [1.5, "abc", None]
    assert _read(ColumnKind.INT, ["1", "2", None]) == [1, 2, None]
    assert _read(ColumnKind.INT, ["1", "2.0"]) == [1.0, 2.0]  # validation accepts integral floats
    assert _read(ColumnKind.INT, ["1", "two"]) == [1, "two"]


def test_booleans_categories_and_strings() -> None:
    assert _read(ColumnKind.BOOL, ["true", "False", "0", None]) == [True, False, False, None]
    assert _read(ColumnKind.BOOL, ["true", "maybe"]) == [True, "maybe"]
    assert _read(ColumnKind.CATEGORY, ["1", "3", "x"], levels=(1, 2, 3)) == [1, 3, "x"]
    assert _read(ColumnKind.CATEGORY, ["a", "z"], levels=("a", "b")) == ["a", "z"]
    assert _read(ColumnKind.STRING, ["1", None]) == ["1", None]


def test_only_signature_columns_are_read_as_their_kind() -> None:
    table = pa.table({"id": ["007", "008"], "x": ["1.5", "2"]})
    frame = read_text_table(table, Signature((ColumnSpec("x", ColumnKind.FLOAT),)))
    assert frame["id"].tolist() == ["007", "008"]
    assert frame["x"].tolist() == [1.5, 2.0]
