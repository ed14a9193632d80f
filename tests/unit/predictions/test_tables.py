"""Queued batches become one Arrow table: columns concatenated per layout, types kept or made text."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from modelport.predictions import PredictionBatch
from modelport.predictions.policy import Privacy
from modelport.predictions.tables import Entry, build_tables
from tests.unit.predictions.helpers import classified, numbered


def entry(batch: PredictionBatch, first: int = 0, keep: np.ndarray | None = None) -> Entry:
    n = len(batch)
    return Entry(batch, numbered(first, n), keep, 1_700_000_000_000_000, 1.0,
                 n if keep is None else int(keep.sum()))


def test_batches_of_one_layout_make_one_typed_table() -> None:
    entries = [entry(classified(1, start=i), i) for i in range(5)] + [entry(classified(100, start=5), 5)]
    [(table, held)] = build_tables(entries, Privacy())
    assert held == entries
    assert table.num_rows == 105
    assert table.column("id").to_pylist() == numbered(0, 105)
    assert table.column("input.age").to_pylist() == list(range(20, 125))
    assert table.schema.field("input.age").type == pa.int64()
    assert table.schema.field("input.income").type == pa.float64()
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.column_names[-3:] == ["prediction", "proba.bad", "proba.good"]


def test_layouts_that_differ_are_unioned_with_missing_values() -> None:
    matrix = np.array([[1.0, 2.0]])
    unscored = PredictionBatch("e", "m", "1", matrix, columns=("age", "extra"), predictions=["bad"])
    [(table, _)] = build_tables([entry(classified(2)), entry(unscored, 2)], Privacy())
    assert table.column("input.extra").to_pylist() == [None, None, 2.0]
    assert table.column("proba.good").to_pylist()[2] is None
    assert table.column("input.age").to_pylist() == [20.0, 21.0, 1.0]


def test_values_arrow_cannot_type_are_stored_as_text() -> None:
    mixed = PredictionBatch("e", "m", "1", {"code": np.array([1, "A7"], dtype=object)},
                            predictions=np.array([1, "x"], dtype=object))
    [(table, _)] = build_tables([entry(mixed)], Privacy())
    assert table.column("input.code").to_pylist() == ["1", "A7"]
    assert table.column("prediction").to_pylist() == ["1", "x"]


def test_layouts_whose_types_clash_stay_separate_tables() -> None:
    text = PredictionBatch("e", "m", "1", {"code": ["A7"]}, predictions=[1])
    number = PredictionBatch("e", "m", "1", {"code": [7], "other": [1]}, predictions=[1])
    tables = build_tables([entry(text), entry(number, 1)], Privacy())
    assert [t.column("input.code").to_pylist() for t, _ in tables] == [["A7"], [7]]
    assert [[e.batch for e in held] for _, held in tables] == [[text], [number]]


def test_sampling_masks_exclusion_and_hashing_apply() -> None:
    keep = np.array([True, False, True])
    [(table, _)] = build_tables([entry(classified(3), keep=keep)],
                                Privacy(exclude=frozenset({"income"}), hashed=frozenset({"home"})))
    assert table.column("id").to_pylist() == [numbered(0, 3)[0], numbered(0, 3)[2]]
    assert "input.income" not in table.column_names
    assert all(len(v) == 64 for v in table.column("input.home").to_pylist())


def test_a_malformed_batch_raises() -> None:
    bad = PredictionBatch("e", "m", "1", {"a": [1, 2]}, predictions=[1])
    with pytest.raises(ValueError, match="predictions has 1 values for 2 rows"):
        build_tables([entry(bad)], Privacy())


def test_records_and_columns_of_a_request_body_are_gathered_per_column() -> None:
    records = PredictionBatch("e", "m", "1", [{"age": 30, "home": "rent"}, {"age": 41, "home": None}],
                              predictions=["good", "bad"])
    columns = PredictionBatch("e", "m", "1", {"age": np.array([52]), "home": np.array(["own"], dtype=object)},
                              predictions=np.array(["good"], dtype=object))
    scalars = PredictionBatch("e", "m", "1", {"age": 63, "home": "rent"}, predictions=["bad"])
    tables = build_tables([entry(records), entry(columns, 2), entry(scalars, 3)], Privacy())
    [(table, _)] = tables
    assert table.column("input.age").to_pylist() == [30, 41, 52, 63]
    assert table.column("input.home").to_pylist() == ["rent", None, "own", "rent"]
    assert table.column("prediction").to_pylist() == ["good", "bad", "good", "bad"]


def test_records_missing_a_field_store_it_as_missing() -> None:
    ragged = PredictionBatch("e", "m", "1", [{"a": 1}, {"b": "x"}], predictions=[0, 1])
    [(table, _)] = build_tables([entry(ragged)], Privacy())
    assert table.column("input.a").to_pylist() == [1, None]
    assert table.column("input.b").to_pylist() == [None, "x"]


def test_a_value_that_is_a_list_stays_one_value() -> None:
    nested = PredictionBatch("e", "m", "1", {"tags": [["a", "b"]]}, predictions=[1])
    other = PredictionBatch("e", "m", "1", {"tags": np.array([None], dtype=object)}, predictions=[0])
    [(table, _)] = build_tables([entry(nested), entry(other, 1)], Privacy())
    assert table.column("input.tags").to_pylist() == [["a", "b"], None]


def test_matrix_batches_sharing_columns_and_labels_as_arrays_make_one_table() -> None:
    columns, labels = ("a", "b"), np.array([0, 1])  # labels as a model gives them: an ndarray
    batches = [PredictionBatch("e", "m", "1", np.array([[float(i), 2.0 * i]]), columns=columns,
                               predictions=np.array([i % 2]), probabilities=np.array([[0.25, 0.75]]),
                               labels=labels) for i in range(3)]
    other = PredictionBatch("e", "m", "1", np.array([[9.0, 9.0]]), columns=("a", "c"),
                            predictions=np.array([1]), probabilities=np.array([[0.5, 0.5]]), labels=labels)
    [(table, held)] = build_tables([entry(b, i) for i, b in enumerate([*batches, other])], Privacy())
    assert len(held) == 4
    assert table.column("input.b").to_pylist() == [0.0, 2.0, 4.0, None]
    assert table.column("input.c").to_pylist() == [None, None, None, 9.0]
    assert table.column("proba.1").to_pylist() == [0.75, 0.75, 0.75, 0.5]


def test_matrix_batches_of_other_number_types_stack_without_losing_values() -> None:
    columns = ("a", "b")
    whole = PredictionBatch("e", "m", "1", np.array([[2**40 + 1, 7]]), columns=columns, predictions=[0])
    halves = PredictionBatch("e", "m", "1", np.array([[0.5, 1.5], [2.5, 3.5]]), columns=columns,
                             predictions=[1, 1])
    for order in ([whole, halves], [halves, whole]):  # the first batch's type is tried first
        [(table, _)] = build_tables([entry(b, i) for i, b in enumerate(order)], Privacy())
        a, b = table.column("input.a").to_pylist(), table.column("input.b").to_pylist()
        rows = set(zip(a, b, strict=True))
        assert rows == {(2**40 + 1, 7), (0.5, 1.5), (2.5, 3.5)}


def test_shadow_rows_keep_their_link_to_the_primary_prediction() -> None:
    primary = PredictionBatch("e", "m", "1", {"a": [1.0, 2.0]}, predictions=[0, 1])
    shadow = PredictionBatch("e", "m", "2", {"a": [1.0, 2.0]}, predictions=[0, 0], role="shadow",
                             primary_ids=["p0", "p1"])
    [(table, _)] = build_tables([entry(primary), entry(shadow, 2)], Privacy())
    assert table.column("primary_id").to_pylist() == [None, None, "p0", "p1"]
    assert table.column("role").to_pylist() == ["primary", "primary", "shadow", "shadow"]
