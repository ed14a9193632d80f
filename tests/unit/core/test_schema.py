from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.core.schema import CATEGORY_MAX_LEVELS, ColumnKind, Signature, infer_signature
from modelport.errors import SchemaError


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [30, 40, 50],
        "income": [1.5, np.nan, 3.0],
        "home": ["rent", "own", None],
        "vip": [True, False, True],
        "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        "tier": pd.Categorical(["a", "b", "a"], categories=["a", "b", "c"]),
    })


def test_kinds_nullability_ranges_and_levels_are_inferred() -> None:
    sig = infer_signature(_frame())
    kinds = {c.name: c.kind for c in sig.inputs}
    assert kinds == {"age": ColumnKind.INT, "income": ColumnKind.FLOAT, "home": ColumnKind.CATEGORY,
                     "vip": ColumnKind.BOOL, "when": ColumnKind.DATETIME, "tier": ColumnKind.CATEGORY}
    assert sig.column("income").nullable
    assert not sig.column("age").nullable
    assert (sig.column("age").minimum, sig.column("age").maximum) == (30.0, 50.0)
    assert sig.column("home").levels == ("own", "rent")
    assert sig.column("tier").levels == ("a", "b", "c")


def test_many_distinct_strings_are_free_text() -> None:
    frame = pd.DataFrame({"note": [f"n{i}" for i in range(CATEGORY_MAX_LEVELS + 1)]})
    assert infer_signature(frame).column("note").kind is ColumnKind.STRING


def test_signature_round_trips_through_dict() -> None:
    sig = infer_signature(_frame())
    assert Signature.from_dict(sig.to_dict()) == sig


def test_overrides_change_kind_and_refuse_unknown_columns() -> None:
    sig = infer_signature(_frame()).with_overrides({"home": {"kind": "string", "levels": None}})
    assert sig.column("home").kind is ColumnKind.STRING
    with pytest.raises(SchemaError, match="nope"):
        sig.with_overrides({"nope": {"nullable": True}})


def test_mixed_value_types_and_bad_names_are_refused() -> None:
    with pytest.raises(SchemaError, match="mixed"):
        infer_signature(pd.DataFrame({"x": [1, "a", 2.0]}))
    with pytest.raises(SchemaError, match="strings"):
        infer_signature(pd.DataFrame({0: [1, 2]}))
