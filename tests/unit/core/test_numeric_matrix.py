"""The serving fast path: a numeric matrix validated and conformed without a frame per request must
give exactly the frame, warnings and refusals of the column-by-column path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.core.frames import to_frame
from modelport.core.schema import infer_signature
from modelport.core.validation import check, matrix_frame, numeric_matrix, validate_matrix
from modelport.errors import SchemaError

TRAIN = pd.DataFrame({
    "count": np.array([1, 5, 9, 3], dtype="int64"),
    "ratio": [0.1, 0.5, np.nan, 0.9],
    "small": np.array([1.5, 2.5, 3.5, 4.5], dtype="float32"),
})
SIGNATURE = infer_signature(TRAIN)


def _slow(raw: object) -> tuple[pd.DataFrame, list[str]]:
    frame, warnings = check(to_frame(raw, SIGNATURE), SIGNATURE)
    return frame, [str(w) for w in warnings]


def _fast(raw: object) -> tuple[pd.DataFrame, list[str]] | None:
    matrix = numeric_matrix(raw, SIGNATURE)
    if matrix is None:
        return None
    checked = validate_matrix(matrix, SIGNATURE)
    if checked is None:
        return None
    return matrix_frame(matrix, SIGNATURE), [str(w) for w in checked.warnings]


@pytest.mark.parametrize("raw", [
    np.array([[2.0, 0.3, 2.0], [7.0, np.nan, 4.0]]),
    np.array([[2, 0, 2], [70, 1, 4]]),  # ints; 70 is outside the training range: a warning
    {"count": np.array([4, 6]), "ratio": np.array([0.2, 0.4]), "small": np.array([2.0, 3.0])},
    np.zeros((0, 3)),
])
def test_the_matrix_path_gives_the_frame_path_result(raw: object) -> None:
    fast = _fast(raw)
    assert fast is not None
    frame, warnings = _slow(raw)
    pd.testing.assert_frame_equal(fast[0], frame)
    assert fast[1] == warnings


@pytest.mark.parametrize("raw", [
    np.array([[2.5, 0.3, 2.0]]),  # fractional count
    np.array([[np.nan, 0.3, 2.0]]),  # null count: not nullable in training
    np.array([[True, False, True]]),  # booleans are not numbers here
    np.array([[2.0, 0.3]]),  # a column short
    {"count": np.array([4]), "ratio": np.array([0.2])},
    {"count": np.array([4]), "ratio": np.array([0.2]), "other": np.array([2.0])},
    np.array([[2**60, 0, 1]]),  # an int float64 cannot hold exactly
])
def test_anything_unusual_is_left_to_the_frame_path(raw: object) -> None:
    assert _fast(raw) is None


def test_the_frame_path_names_what_the_matrix_path_declined() -> None:
    with pytest.raises(SchemaError, match="count"):
        _slow(np.array([[2.5, 0.3, 2.0]]))


def test_a_signature_with_a_text_column_never_takes_the_matrix_path() -> None:
    signature = infer_signature(TRAIN.assign(city=["a", "b", "a", "b"]))
    assert numeric_matrix(np.zeros((1, 4)), signature) is None
