"""The log: round trip, a bounded queue that drops and counts, sampling and privacy, closing."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from modelport.errors import ConfigError
from modelport.predictions import (
    PredictionBatch,
    PredictionLog,
    PredictionRecord,
    read_predictions,
    sampled_in,
)
from tests.unit.predictions.helpers import classified, numbered

HOUR = 3600.0  # a flush interval no test waits for: rows reach disk through flush() or close()


def test_round_trip_of_every_input_form(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        one = log.submit(classified(1))
        many = log.submit(classified(4, start=1, version="2", role="canary"))
        matrix = np.array([[1.0, 2.0], [3.0, 4.0]])
        numeric = log.submit(PredictionBatch("reg", "reg", "1", matrix, columns=("a", "b"),
                                             predictions=matrix.sum(axis=1), protocol="v1"))
        columns = log.submit(PredictionBatch("reg", "reg", "1", {"a": [5.0], "b": [6.0]},
                                             predictions=[11.0]))
    frame = read_predictions(tmp_path, "credit")
    assert frame["id"].tolist() == one + many
    assert frame["version"].tolist() == ["1", "2", "2", "2", "2"]
    assert frame["input.age"].tolist() == [20, 21, 22, 23, 24]
    first = PredictionRecord.from_row(frame.iloc[0].to_dict())
    assert first.inputs == {"age": 20, "income": 0.0, "home": "rent"}
    assert first.prediction == "good"
    assert first.probabilities == {"bad": 0.1, "good": 0.9}
    assert (first.status, first.latency_ms, first.protocol, first.role) == (200, 2.5, "v2", "primary")
    assert first.time.tzinfo is not None
    regression = read_predictions(tmp_path, "reg")
    assert regression["id"].tolist() == numeric + columns
    assert regression["prediction"].tolist() == [3.0, 7.0, 11.0]
    assert regression["input.b"].tolist() == [2.0, 4.0, 6.0]


def test_callers_ids_and_times_are_kept(tmp_path: Path) -> None:
    moment = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        assert log.submit(classified(2, ids=["req-1/0", "req-1/1"], time=moment)) == ["req-1/0", "req-1/1"]
    frame = read_predictions(tmp_path, "credit")
    assert frame["id"].tolist() == ["req-1/0", "req-1/1"]
    assert frame["time"].tolist() == [moment, moment]
    assert [p.parent.name for p in tmp_path.glob("model=credit/*/*.parquet")] == ["date=2026-03-01"]


def test_a_full_queue_drops_the_newest_and_counts_without_blocking(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log wants a folder: every write fails")
    log = PredictionLog(blocked / "log", flush_interval_s=0.01, max_queue_rows=10)
    returned = [log.submit(classified(1, start=i)) for i in range(15)]
    returned.append(log.submit(classified(5, start=15)))
    assert all(len(ids) == len(set(ids)) for ids in returned)
    assert [len(ids) for ids in returned] == [1] * 15 + [5]
    stats = log.stats()
    assert (stats.queued, stats.dropped, stats.written) == (10, 10, 0)
    log.flush()
    assert log.stats().write_errors >= 1
    assert log.stats().queued == 10
    blocked.unlink()  # the disk recovers: the kept rows are written at the next flush
    stats = log.close()
    assert (stats.written, stats.queued, stats.dropped, stats.failed) == (10, 0, 10, 0)
    frame = read_predictions(blocked / "log", "credit")
    assert frame["id"].tolist() == [ids[0] for ids in returned[:10]]


def test_rows_a_failing_disk_still_holds_at_close_are_counted_as_failed(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    log = PredictionLog(blocked / "log", flush_interval_s=HOUR, max_queue_rows=10)
    log.submit(classified(3))
    stats = log.close()
    assert (stats.written, stats.queued, stats.failed) == (0, 0, 3)


def test_sampling_exclusion_and_hashing(tmp_path: Path) -> None:
    ids = numbered(0, 400)
    with PredictionLog(tmp_path, flush_interval_s=HOUR, sample_rate=0.3, exclude=["income"],
                       hash=["home"], salt="pepper") as log:
        for first in range(0, 400, 4):
            log.submit(classified(4, start=first, ids=ids[first:first + 4]))
        stats = log.stats()
    kept = [i for i in ids if sampled_in(i, 0.3)]
    frame = read_predictions(tmp_path, "credit")
    assert frame["id"].tolist() == kept
    assert stats.sampled_out == 400 - len(kept)
    assert stats.queued == len(kept)
    assert set(frame["sample_rate"]) == {0.3}
    assert "input.income" not in frame.columns
    home = {hashlib.sha256(b"pepper" + v.encode()).hexdigest(): v for v in ("rent", "owner")}
    assert set(frame["input.home"]) == set(home)
    positions = [ids.index(i) for i in kept]
    assert [home[h] for h in frame["input.home"]] == ["rent" if p % 2 == 0 else "owner" for p in positions]


def test_close_writes_every_acknowledged_row_and_later_submits_drop(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, flush_interval_s=HOUR)
    submitted = [i for n in range(50) for i in log.submit(classified(1 + n % 3, start=n))]
    stats = log.close()
    assert stats.written == len(submitted)
    assert stats.queued == 0
    assert read_predictions(tmp_path, "credit")["id"].tolist() == submitted
    late = log.submit(classified(2))
    assert len(late) == 2
    assert log.stats().dropped == 2
    assert log.close() == log.stats()


def test_a_malformed_batch_is_counted_and_its_neighbours_are_written(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        good = log.submit(classified(2))
        bad = log.submit(PredictionBatch("credit", "credit", "1", {"a": [1, 2]}, predictions=[1]))
        wrong_ids = log.submit(classified(2, ids=["only-one"]))
        bad_name = log.submit(classified(1, model="../escape"))
        after = log.submit(classified(1, start=5))
    assert len(bad) == 2
    assert wrong_ids == ["only-one"]
    assert len(bad_name) == 1
    assert log.stats().failed == 2 + 2 + 1
    assert read_predictions(tmp_path, "credit")["id"].tolist() == good + after
    assert not list(tmp_path.parent.glob("escape"))


def test_the_thread_flushes_on_its_own(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, flush_interval_s=0.05)
    ids = log.submit(classified(3))
    try:
        polls = 1200  # polling, not a timing claim: the thread writes after some interval
        while not list(tmp_path.rglob("*.parquet")) and polls:
            time.sleep(0.05)
            polls -= 1
        [segment] = list(tmp_path.rglob("*.parquet"))
        assert pq.read_table(segment).column("id").to_pylist() == ids
    finally:
        log.close()


@pytest.mark.parametrize(("option", "value"), [("flush_interval_s", 0), ("max_queue_rows", 0),
                                               ("sample_rate", 1.5), ("sample_rate", -0.1)])
def test_bad_settings_are_refused(tmp_path: Path, option: str, value: float) -> None:
    with pytest.raises(ConfigError, match=option):
        PredictionLog(tmp_path, **{option: value})  # type: ignore[arg-type]
