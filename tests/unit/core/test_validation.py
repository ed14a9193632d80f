from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.core.schema import infer_signature
from modelport.core.validation import check, validate
from modelport.errors import SchemaError

TRAIN = pd.DataFrame({
    "age": [30, 40, 50],
    "income": [1.5, np.nan, 3.0],
    "home": ["rent", "own", "rent"],
    "vip": [True, False, True],
    "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
})
SIG = infer_signature(TRAIN)


def _problems(frame: pd.DataFrame) -> dict[str, str]:
    return {p.field: p.problem for p in validate(frame, SIG).problems}


def test_valid_rows_pass_and_keep_training_dtypes() -> None:
    frame, warnings = check(TRAIN, SIG)
    assert warnings == []
    assert list(frame.dtypes.astype(str)) == list(TRAIN.dtypes.astype(str))


def test_every_problem_is_reported_at_once() -> None:
    bad = pd.DataFrame({
        "age": ["thirty"], "income": [None], "home": ["castle"], "vip": [None], "extra": [1],
    })
    problems = _problems(bad)
    assert problems["age"].startswith("expected an integer, got str 'thirty'")
    assert problems["home"].startswith("unknown category 'castle'")
    assert problems["vip"] == "null where the column is not nullable"
    assert problems["extra"] == "unexpected column"
    assert problems["when"] == "missing column"
    assert "income" not in problems  # nullable: a null is fine
    with pytest.raises(SchemaError) as info:
        check(bad, SIG)
    assert isinstance(info.value, ValueError)
    assert {p.field for p in info.value.problems} == {"age", "home", "vip", "extra", "when"}


def test_nothing_is_coerced_silently() -> None:
    frame = TRAIN.astype({"age": object, "vip": object})
    frame.loc[0, "age"] = "30"
    frame.loc[1, "vip"] = 1
    frame.loc[2, "age"] = 2.5
    problems = validate(frame, SIG).problems
    assert {(p.field, p.rows) for p in problems} == {("age", (0, 2)), ("vip", (1,))}


def test_lossless_readings_are_accepted() -> None:
    frame = TRAIN.copy()
    frame["age"] = [30.0, 41.0, 50.0]  # JSON numbers that are integral
    frame["when"] = ["2024-01-01T00:00:00", "2024-02-01", "2024-03-01"]
    frame["income"] = [1, 2, 3]  # ints into a float column widen exactly
    conformed, _ = check(frame, SIG)
    assert conformed["age"].dtype == np.int64
    assert conformed["when"].dtype.kind == "M"


def test_out_of_range_is_a_warning_naming_the_rows() -> None:
    frame = TRAIN.copy()
    frame.loc[1, "age"] = 99
    _, warnings = check(frame, SIG)
    assert [(w.field, w.rows) for w in warnings] == [("age", (1,))]
    assert "outside the training range [30, 50]" in warnings[0].problem


def test_bad_rows_mask_marks_only_faulty_rows() -> None:
    frame = TRAIN.copy()
    frame.loc[2, "home"] = "boat"
    result = validate(frame, SIG)
    assert result.bad_rows.tolist() == [False, False, True]


NUMERIC = infer_signature(pd.DataFrame({"n": [1, 2, 3], "x": [0.5, np.nan, 2.0]}))


def test_all_numeric_frames_get_the_same_answers_on_the_fast_path() -> None:
    clean = pd.DataFrame({"n": [2, 9], "x": [np.nan, -1.0]})
    frame, warnings = check(clean, NUMERIC)
    assert frame is clean  # already conformed: no copy
    assert [(w.field, w.problem, w.rows) for w in warnings] == [
        ("n", "outside the training range [1, 3]", (1,)),
        ("x", "outside the training range [0.5, 2]", (1,)),
    ]
    bad = pd.DataFrame({"n": [2.5, np.nan], "x": [1.0, 1.0]})
    assert {(p.field, p.rows) for p in validate(bad, NUMERIC).problems} == {("n", (0,)), ("n", (1,))}
    shuffled = clean[["x", "n"]]
    assert check(shuffled, NUMERIC)[0].columns.tolist() == ["n", "x"]


@pytest.mark.parametrize("missing", [None, pd.NA, np.nan])
def test_every_missing_value_of_a_text_column_is_conformed_to_nan(missing: object) -> None:
    signature = infer_signature(pd.DataFrame({"home": ["rent", None, "own"], "age": [1, 2, 3]}))
    for rows in (pd.DataFrame({"home": ["rent", missing], "age": [1, 2]}),
                 pd.DataFrame({"home": pd.Series(["rent", missing], dtype=object), "age": [1, 2]})):
        frame, _ = check(rows, signature)
        values = frame["home"].tolist()
        assert values[0] == "rent"
        assert isinstance(values[1], float)
        assert np.isnan(values[1])
