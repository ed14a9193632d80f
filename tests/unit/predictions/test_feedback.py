"""Feedback: stored whatever its ids, joined by id in the prediction's window, latest wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from modelport.errors import SchemaError
from modelport.predictions import FeedbackStore, PredictionLog, joined, match_ids, sampled_in
from tests.unit.predictions.helpers import classified, numbered

HOUR = 3600.0
MONDAY = datetime(2026, 3, 2, 10, tzinfo=UTC)


def log_days(root: Path, days: int, per_day: int = 3) -> dict[int, list[str]]:
    """Predictions on consecutive days from MONDAY; the ids made on each day."""
    with PredictionLog(root, flush_interval_s=HOUR) as log:
        return {day: log.submit(classified(per_day, start=day * per_day, time=MONDAY + timedelta(days=day)))
                for day in range(days)}


def test_labels_arriving_days_later_land_in_the_prediction_window(tmp_path: Path) -> None:
    ids = log_days(tmp_path, 3)
    store = FeedbackStore(tmp_path)
    receipt = store.add("credit", ids[0], labels=["good", "bad", "good"],
                        received=MONDAY + timedelta(days=4))
    assert (receipt.stored, receipt.match.joined, receipt.match.unknown) == (3, 3, 0)
    assert receipt.segment is not None
    assert receipt.segment.parent.name == "date=2026-03-06"
    monday = joined(tmp_path, "credit", since=MONDAY.date(), until=MONDAY.date() + timedelta(days=1))
    assert monday["id"].tolist() == ids[0]
    assert monday["label"].tolist() == ["good", "bad", "good"]
    assert (monday["feedback_received"] == pd.Timestamp(MONDAY + timedelta(days=4))).all()
    tuesday = joined(tmp_path, "credit", since=MONDAY + timedelta(days=1), until=MONDAY + timedelta(days=2))
    assert tuesday["id"].tolist() == ids[1]
    assert tuesday["label"].isna().all()
    everything = joined(tmp_path, "credit", labelled_only=True)
    assert everything["id"].tolist() == ids[0]


def test_the_latest_label_and_the_latest_outcome_win(tmp_path: Path) -> None:
    ids = log_days(tmp_path, 1, per_day=2)[0]
    store = FeedbackStore(tmp_path)
    store.add("credit", ids, labels=["bad", "bad"], received=MONDAY + timedelta(hours=2))
    store.add("credit", ids[:1], labels=["good"], received=MONDAY + timedelta(hours=5))
    store.add("credit", ids[:1], outcomes=[120.5], received=MONDAY + timedelta(hours=9))
    store.add("credit", ids[1:], labels=["late"], received=MONDAY + timedelta(hours=1))  # received earlier
    frame = joined(tmp_path, "credit")
    assert frame["label"].tolist() == ["good", "bad"]
    assert frame["outcome"].tolist()[0] == 120.5
    assert pd.isna(frame["outcome"].tolist()[1])
    assert frame["feedback_received"].tolist() == [pd.Timestamp(MONDAY + timedelta(hours=h)) for h in (9, 2)]


def test_within_one_submission_the_last_row_for_an_id_wins(tmp_path: Path) -> None:
    ids = log_days(tmp_path, 1, per_day=1)[0]
    receipt = FeedbackStore(tmp_path).add("credit", ids * 3, labels=["a", "b", "c"])
    assert receipt.stored == 1
    assert joined(tmp_path, "credit")["label"].tolist() == ["c"]


def test_unknown_ids_are_reported_and_still_stored(tmp_path: Path) -> None:
    ids = log_days(tmp_path, 1)[0]
    strangers = numbered(10_000, 8)
    receipt = FeedbackStore(tmp_path).add("credit", ids + strangers, labels=[1] * 11)
    assert (receipt.match.joined, receipt.match.unknown) == (3, 8)
    assert receipt.match.examples == tuple(strangers[:5])
    assert receipt.segment is not None
    assert pq.read_table(receipt.segment).column("id").to_pylist() == ids + strangers
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:  # the predictions turn up later
        log.submit(classified(8, ids=strangers, time=MONDAY))
    assert joined(tmp_path, "credit", labelled_only=True)["id"].tolist() == ids + strangers


def test_feedback_for_a_sampled_out_id_is_recognised(tmp_path: Path) -> None:
    ids = numbered(0, 200)
    with PredictionLog(tmp_path, flush_interval_s=HOUR, sample_rate=0.5) as log:
        log.submit(classified(200, ids=ids, time=MONDAY))
    kept = [i for i in ids if sampled_in(i, 0.5)]
    typo = next(t for t in (f"typo-{k}" for k in range(100)) if sampled_in(t, 0.5))  # the log would keep it
    match = FeedbackStore(tmp_path).add("credit", [*ids, typo], labels=np.ones(201)).match
    assert (match.joined, match.sampled_out, match.unknown) == (len(kept), 200 - len(kept), 1)
    assert match.examples == (typo,)


def test_matching_can_look_back_a_limited_time(tmp_path: Path) -> None:
    ids = log_days(tmp_path, 3)
    match = match_ids(tmp_path, "credit", ids[0] + ids[2], since=MONDAY + timedelta(days=2))
    assert (match.joined, match.unknown) == (3, 3)


def test_an_empty_log_joins_to_an_empty_frame(tmp_path: Path) -> None:
    frame = joined(tmp_path, "credit")
    assert frame.empty
    assert {"id", "time", "label", "outcome", "feedback_received"} <= set(frame.columns)
    log_days(tmp_path, 1)
    assert joined(tmp_path, "credit")["label"].isna().all()


@pytest.mark.parametrize(("ids", "labels", "outcomes", "field", "problem"), [
    ([], ["x"], None, "id", "no feedback rows"),
    (["a", "", None, 7], ["x"] * 4, None, "id", "must be a non-empty prediction id"),
    (["a", "b"], ["x"], None, "label", "has 1 values for 2 ids"),
    (["a", "b"], None, None, "label", "give labels or outcomes"),
    (["a", "b"], ["x", None], None, "label", "missing"),
    (["a", "b"], [None, "x"], [np.nan, 2.0], "label and outcome", "missing"),
])
def test_bad_feedback_is_refused_naming_the_field(
        tmp_path: Path, ids: list[object], labels: list[object] | None, outcomes: list[object] | None,
        field: str, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        FeedbackStore(tmp_path).add("credit", ids, labels=labels, outcomes=outcomes)  # type: ignore[arg-type]
    [found] = caught.value.problems
    assert found.field == field
    assert problem in found.problem
    assert not (tmp_path / "feedback").exists()
