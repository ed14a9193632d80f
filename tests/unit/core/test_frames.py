from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.core.frames import to_frame
from modelport.core.schema import infer_signature
from modelport.errors import SchemaError

NUMERIC = infer_signature(pd.DataFrame({"a": [1.0], "b": [2.0]}))
MIXED = infer_signature(pd.DataFrame({"a": [1.0], "s": ["x"]}))


def test_records_columns_and_single_row_dicts() -> None:
    expected = pd.DataFrame({"a": [1.0, 3.0], "b": [2.0, 4.0]})
    pd.testing.assert_frame_equal(to_frame([{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}], NUMERIC), expected)
    pd.testing.assert_frame_equal(to_frame({"a": [1.0, 3.0], "b": [2.0, 4.0]}, NUMERIC), expected)
    assert to_frame({"a": 1.0, "b": 2.0}, NUMERIC).shape == (1, 2)


def test_numpy_arrays_only_for_all_numeric_signatures() -> None:
    frame = to_frame(np.array([[1.0, 2.0], [3.0, 4.0]]), NUMERIC)
    assert list(frame.columns) == ["a", "b"]
    with pytest.raises(SchemaError, match="every input column is numeric"):
        to_frame(np.array([[1.0, 2.0]]), MIXED)
    with pytest.raises(SchemaError, match="expected 2 columns"):
        to_frame(np.array([[1.0, 2.0, 3.0]]), NUMERIC)


def test_unequal_columns_and_unknown_types_are_refused() -> None:
    with pytest.raises(SchemaError, match="others differ"):
        to_frame({"a": [1.0, 2.0], "b": [1.0]}, NUMERIC)
    with pytest.raises(SchemaError, match="unsupported input type"):
        to_frame("a,b", NUMERIC)
