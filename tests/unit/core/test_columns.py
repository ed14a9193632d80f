"""The serving fast path for mixed-type signatures: requests validated as plain columns and joined
into one frame per batch must give exactly the frame, warnings and refusals of the frame path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.core.columns import column_rows, columns_frame
from modelport.core.frames import to_frame
from modelport.core.schema import infer_signature
from modelport.core.validation import check
from modelport.errors import SchemaError
from tests.data import credit

TRAIN = pd.DataFrame({
    "count": np.array([1, 5, 9, 3] * 15, dtype="int64"),
    "ratio": [0.1, 0.5, np.nan, 0.9] * 15,
    "home": ["rent", "owner", None, "rent"] * 15,
    "grade": pd.Categorical(["a", "b", "a", "c"] * 15),
    "note": [f"note {i}" for i in range(60)],  # too many distinct values for a category: text
    "active": [True, False, True, True] * 15,
})
SIGNATURE = infer_signature(TRAIN)


def _slow(raw: Any) -> tuple[pd.DataFrame, list[str]]:
    frame, warnings = check(to_frame(raw, SIGNATURE), SIGNATURE)
    return frame, [str(w) for w in warnings]


def _fast(raw: Any) -> tuple[pd.DataFrame, list[str]] | None:
    checked = column_rows(raw, SIGNATURE)
    if checked is None:
        return None
    rows, warnings = checked
    return columns_frame([rows], SIGNATURE), [str(w) for w in warnings]


RECORD = {"count": 4, "ratio": 0.2, "home": "owner", "grade": "b", "note": "q", "active": False}


@pytest.mark.parametrize("raw", [
    [RECORD],
    [RECORD, {**RECORD, "ratio": None, "home": None, "count": 40}],  # nulls; 40: a range warning
    [{**RECORD, "count": 4.0}],  # an integral float in an int column (what JSON may send)
    RECORD,  # one record as a mapping of scalars
    {"count": np.array([4, 6]), "ratio": np.array([0.2, np.nan]),  # OIP v2 column tensors
     "home": np.array(["rent", None], dtype=object), "grade": np.array(["a", "c"], dtype=object),
     "note": np.array(["p", "q"], dtype=object), "active": np.array([True, False])},
    {"count": [4, 6], "ratio": [0.2, 7.5], "home": ["rent", "rent"], "grade": ["a", "a"],
     "note": ["p", "q"], "active": [True, True]},
])
def test_the_column_path_gives_the_frame_path_result(raw: Any) -> None:
    fast = _fast(raw)
    assert fast is not None
    frame, warnings = _slow(raw)
    pd.testing.assert_frame_equal(fast[0], frame)
    assert fast[1] == warnings


@pytest.mark.parametrize("raw", [
    [{**RECORD, "count": 4.5}],  # fractional int
    [{**RECORD, "count": None}],  # null where training had none
    [{**RECORD, "grade": "z"}],  # unknown category
    [{**RECORD, "note": 7}],  # a number in a text column
    [{**RECORD, "ratio": "0.2"}],  # text in a number column
    [{**RECORD, "active": 1}],  # an int is not a boolean
    [{**RECORD, "count": True}],  # nor a boolean an int
    [{k: v for k, v in RECORD.items() if k != "note"}],  # a column missing
    [{**RECORD, "extra": 1}],  # a column too many
    {"count": [4, 6], "ratio": [0.2], "home": ["rent"], "grade": ["a"], "note": ["p"], "active": [True]},
    {"count": np.array([[4, 6]]), "ratio": [0.2, 0.1], "home": ["rent", "rent"], "grade": ["a", "a"],
     "note": ["p", "q"], "active": [True, True]},  # a 2-D column
])
def test_anything_unusual_is_left_to_the_frame_path_which_names_it(raw: Any) -> None:
    assert _fast(raw) is None
    with pytest.raises(SchemaError):
        _slow(raw)


def test_one_frame_for_a_batch_equals_the_requests_frames_concatenated() -> None:
    x, _ = credit(300)
    signature = infer_signature(x)
    records = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in x.to_dict("records")]
    requests = [records[i:i + n] for i, n in zip(range(0, 300, 7), [1, 3, 2, 7, 1] * 20, strict=False)]
    parts = []
    for request in requests:
        checked = column_rows(request, signature)
        assert checked is not None, request
        parts.append(checked[0])
    joined = columns_frame(parts, signature)
    expected = pd.concat([check(to_frame(r, signature), signature)[0] for r in requests], ignore_index=True)
    pd.testing.assert_frame_equal(joined, expected)
    assert len(joined) == sum(len(r) for r in requests)


def test_a_signature_with_a_datetime_column_keeps_the_frame_path() -> None:
    signature = infer_signature(pd.DataFrame({"when": pd.to_datetime(["2024-01-01"]), "note": ["x"]}))
    assert column_rows([{"when": "2024-01-02", "note": "y"}], signature) is None
