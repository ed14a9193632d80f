"""Ids, the batch shape and reading a logged row back as a record."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from modelport.predictions import PredictionBatch, PredictionRecord, new_ids
from modelport.predictions.records import POOL_IDS, to_us


def test_new_ids_are_distinct_uuid4_hex() -> None:
    for n in (1, 2, 1000, POOL_IDS + 1):
        ids = new_ids(n)
        assert len(ids) == n == len(set(ids))
        for value in ids:
            parsed = uuid.UUID(hex=value)
            assert (len(value), parsed.hex, parsed.version) == (32, value, 4)
            assert parsed.variant == uuid.RFC_4122


def test_ids_stay_distinct_across_draws_threads_and_forked_processes() -> None:
    drawn: list[list[str]] = []

    sizes = (1, 64, 3, POOL_IDS - 1, 1)

    def take() -> None:
        for n in sizes:
            drawn.append(new_ids(n))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports the ids it draws from the pool it inherited
        os.close(read)
        os.write(write, ",".join(new_ids(16)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    os.waitpid(pid, 0)
    everything = [value for ids in drawn for value in ids] + child + new_ids(16)
    assert len(everything) == 4 * sum(sizes) + 32 == len(set(everything))
    assert all(len(value) == 32 for value in everything)


def test_a_batch_counts_rows_of_every_input_form() -> None:
    matrix = np.zeros((3, 2))
    assert len(PredictionBatch("e", "m", "1", matrix, columns=("a", "b"))) == 3
    assert len(PredictionBatch("e", "m", "1", [{"a": 1}, {"a": 2, "b": 3}])) == 2
    assert len(PredictionBatch("e", "m", "1", {"a": 1, "b": "x"})) == 1
    assert len(PredictionBatch("e", "m", "1", {"a": [1, 2]})) == 2
    assert len(PredictionBatch("e", "m", "1", pd.DataFrame({"a": [1]}))) == 1
    assert len(PredictionBatch("e", "m", "1", None, predictions=np.ones(4))) == 4
    assert len(PredictionBatch("e", "m", "1", None, rows=1, status=422)) == 1


def test_naive_times_are_utc() -> None:
    aware = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=UTC)
    assert to_us(aware) == to_us(aware.replace(tzinfo=None)) == int(aware.timestamp()) * 1_000_000 + 250


def test_a_row_folds_back_into_a_record() -> None:
    row = {"id": "a" * 32, "time": pd.Timestamp("2026-03-01T12:00", tz="UTC"), "endpoint": "credit",
           "model": "credit", "version": "2", "role": "canary", "protocol": "v1", "status": 200,
           "latency_ms": 3.0, "sample_rate": 0.5, "input.age": np.int64(30), "input.home": "rent",
           "input.debt": np.nan, "prediction": "good", "proba.bad": 0.25, "proba.good": 0.75}
    record = PredictionRecord.from_row(row)
    assert record.inputs == {"age": 30, "home": "rent", "debt": None}
    assert type(record.inputs["age"]) is int
    assert record.probabilities == {"bad": 0.25, "good": 0.75}
    assert (record.role, record.version, record.sample_rate) == ("canary", "2", 0.5)
    assert record.to_dict()["time"] == "2026-03-01T12:00:00+00:00"
