"""Compaction: closed days merge into few segments, readers never see a row twice or lose one."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from modelport.predictions import FeedbackStore, PredictionBatch, PredictionLog, joined, read_predictions
from modelport.predictions.compact import compact, compact_step
from modelport.predictions.segments import COMPACT_PREFIX, live_segments, write_segment
from tests.unit.predictions.helpers import classified

HOUR = 3600.0
DAY = datetime(2026, 3, 2, 8, tzinfo=UTC)


def folder_of(root: Path, day: date, model: str = "credit") -> Path:
    return root / f"model={model}" / f"date={day.isoformat()}"


def log_segments(root: Path, segments: int, when: datetime = DAY) -> list[str]:
    """``segments`` flushes of two rows each on the day of ``when``; the ids in order."""
    ids: list[str] = []
    with PredictionLog(root, flush_interval_s=HOUR) as log:
        for i in range(segments):
            ids += log.submit(classified(2, start=2 * i, time=when + timedelta(minutes=i)))
            log.flush()
    return ids


def test_a_closed_day_becomes_one_segment_and_reads_the_same(tmp_path: Path) -> None:
    ids = log_segments(tmp_path, 6)
    today = log_segments(tmp_path, 2, datetime.now(UTC))
    before = read_predictions(tmp_path, "credit")
    [merged] = compact(tmp_path, "credit")
    assert merged.name.startswith(COMPACT_PREFIX)
    assert [p.name for p in folder_of(tmp_path, DAY.date()).glob("*.parquet")] == [merged.name]
    assert len(list(folder_of(tmp_path, datetime.now(UTC).date()).glob("*.parquet"))) == 2
    after = read_predictions(tmp_path, "credit")
    assert after["id"].tolist() == before["id"].tolist() == ids + today
    assert after.equals(before)
    assert compact(tmp_path, "credit") == []
    # flushes are written cheaply (lz4) and the merged day compressed harder (zstd)
    assert _codecs(merged) == {"ZSTD"}
    flushed = folder_of(tmp_path, datetime.now(UTC).date()).glob("*.parquet")
    assert {codec for path in flushed for codec in _codecs(path)} == {"LZ4"}


def _codecs(path: Path) -> set[str]:
    meta = pq.ParquetFile(path).metadata
    return {meta.row_group(g).column(c).compression for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)}


def test_an_interrupted_compaction_shows_no_row_twice_and_is_finished_later(tmp_path: Path) -> None:
    ids = log_segments(tmp_path, 3)
    folder = folder_of(tmp_path, DAY.date())
    originals = sorted(folder.glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(p) for p in originals])
    write_segment(folder, table, replaces=[p.name for p in originals])  # then the process died
    assert len(list(folder.glob("*.parquet"))) == 4
    assert read_predictions(tmp_path, "credit")["id"].tolist() == ids
    compact(tmp_path, "credit")
    live, replaced = live_segments(folder)
    assert (len(live), replaced) == (1, [])
    assert [p.name for p in folder.glob("*.parquet")] == [live[0].name]
    assert read_predictions(tmp_path, "credit")["id"].tolist() == ids


def test_a_segment_added_to_a_compacted_day_is_kept_and_merged_next_time(tmp_path: Path) -> None:
    ids = log_segments(tmp_path, 3)
    compact(tmp_path, "credit")
    late = log_segments(tmp_path, 1, DAY + timedelta(hours=3))
    assert read_predictions(tmp_path, "credit")["id"].tolist() == ids + late
    [merged] = compact(tmp_path, "credit")
    assert [p.name for p in folder_of(tmp_path, DAY.date()).glob("*.parquet")] == [merged.name]
    assert read_predictions(tmp_path, "credit")["id"].tolist() == ids + late


def test_segments_whose_types_clash_are_left_apart(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=HOUR) as log:
        text = log.submit(PredictionBatch("m", "m", "1", {"code": ["A7"]}, predictions=[1], time=DAY))
        log.flush()
        number = log.submit(PredictionBatch("m", "m", "1", {"code": [7]}, predictions=[1],
                                            time=DAY + timedelta(minutes=1)))
    assert compact(tmp_path, "m") == []
    assert len(list(folder_of(tmp_path, DAY.date(), "m").glob("*.parquet"))) == 2
    assert read_predictions(tmp_path, "m")["id"].tolist() == text + number


def test_feedback_days_compact_too(tmp_path: Path) -> None:
    ids = log_segments(tmp_path, 1)
    store = FeedbackStore(tmp_path)
    for hour, label in enumerate(["bad", "good", "bad"]):
        store.add("credit", ids[:1], labels=[label], received=DAY + timedelta(hours=hour + 1))
    [merged] = compact(tmp_path, "credit", feedback=True)
    assert merged.parent == tmp_path / "feedback" / "model=credit" / "date=2026-03-02"
    assert joined(tmp_path, "credit")["label"].tolist() == ["bad", None]


def test_the_writer_compacts_closed_days_of_the_models_it_writes(tmp_path: Path) -> None:
    ids = log_segments(tmp_path, 4)
    folder = folder_of(tmp_path, DAY.date())
    log = PredictionLog(tmp_path, flush_interval_s=0.05)
    try:
        log.submit(classified(1))
        polls = 1200  # polling, not a timing claim: the thread compacts after some cycle
        while (len(list(folder.glob("*.parquet"))) > 1) and polls:
            time.sleep(0.05)
            polls -= 1
        [segment] = list(folder.glob("*.parquet"))
        assert segment.name.startswith(COMPACT_PREFIX)
    finally:
        log.close()
    assert read_predictions(tmp_path, "credit", until=DAY + timedelta(days=1))["id"].tolist() == ids


def test_steps_of_a_few_segments_converge_to_one_and_every_read_between_is_whole(tmp_path: Path) -> None:
    ids = log_segments(tmp_path, 7)
    folder = folder_of(tmp_path, DAY.date())
    counts = []
    more = True
    while more:
        _, more = compact_step(tmp_path, "credit", DAY.date(), limit=3)
        counts.append(len(live_segments(folder)[0]))
        assert read_predictions(tmp_path, "credit")["id"].tolist() == ids
    assert counts[-1] == 1
    assert counts == sorted(counts, reverse=True)
    assert len(counts) < 7
