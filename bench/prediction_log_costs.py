"""Measure what the prediction log costs: ``submit`` per one-row request, and rows/s the writer sustains.

    python bench/prediction_log_costs.py [--requests 50000] [--rows 200000] [--json]

submit: the request path's whole share: building the PredictionBatch and ``submit`` (ids drawn,
sampling decided, one append under a lock), with the writer thread running at its default 1 s
interval as in a server. Two request shapes: an all-numeric model (8 float columns, the matrix
serving validates into) and the credit data (13 mixed columns, a one-row DataFrame); with sampling at
10 % as well (ids are hashed for the decision, and 90 % of the rows are never queued).

writer: rows queued first (flush interval of an hour, so the thread never runs), then one
``flush()`` timed: bulk conversion to Arrow, one zstd Parquet segment, fsync and rename. Shapes:
one-row requests and 100-row requests; the numeric matrix, and credit as a DataFrame, as records
(KServe v1 / MLflow bodies) and as column arrays (OIP v2 bodies). This is the writer's capacity on one
core; on a server it shares the GIL with request handling, so 1 / rate is also the CPU each logged
row costs the server.

Then both together: one thread submitting one-row credit records as fast as it can for a few
seconds against a running writer, reporting rows written per second and rows dropped.

Last, reading: ``read_predictions`` over a closed day of many one-flush segments (what a quiet
model leaves at the 1 s interval), before and after ``compact`` merged them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from modelport.predictions import PredictionBatch, PredictionLog, read_predictions
from modelport.predictions.compact import compact

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.data import credit

LABELS = ["bad", "good"]
PROBA = np.array([[0.3, 0.7]])
CLASS = np.array(["good"], dtype=object)


def _numeric(n: int) -> Callable[[int], PredictionBatch]:
    matrix = np.random.default_rng(0).normal(size=(n, 8))
    columns = tuple(f"x{j}" for j in range(8))
    values = matrix[:, 0].copy()
    return lambda i: PredictionBatch("reg", "reg", "1", matrix, columns=columns, predictions=values,
                                     protocol="v2", latency_ms=1.0)


def _credit(n: int, form: str = "frame") -> Callable[[int], PredictionBatch]:
    """Credit rows as the server may hold them: a validated DataFrame, the records of a KServe v1 or
    MLflow body, or the column arrays an OIP v2 body decodes into."""
    x, _ = credit(2000)
    frames = [x.iloc[i:i + n].reset_index(drop=True) for i in range(0, 2000 - n + 1, max(n, 1))][:64]
    shapes: list[Any] = frames
    if form == "records":
        shapes = [f.to_dict("records") for f in frames]
    elif form == "columns":
        shapes = [{c: f[c].to_numpy() for c in f.columns} for f in frames]
    values = np.full(n, "good", dtype=object)
    proba = np.tile(PROBA, (n, 1))
    return lambda i: PredictionBatch("credit", "credit", "1", shapes[i % len(shapes)], predictions=values,
                                     probabilities=proba, labels=LABELS, protocol="v2", latency_ms=1.0)


def submit_cost(make: Callable[[int], PredictionBatch], requests: int, sample_rate: float) -> dict[str, Any]:
    """Microseconds per one-row request (batch + submit), median of 10 rounds."""
    with tempfile.TemporaryDirectory() as root:
        log = PredictionLog(root, sample_rate=sample_rate, max_queue_rows=10 * requests)
        rounds = []
        per_round = requests // 10
        for r in range(10):
            start = time.perf_counter()
            for i in range(per_round):
                log.submit(make(r * per_round + i))
            rounds.append((time.perf_counter() - start) / per_round * 1e6)
        stats = log.close()
    return {"us_per_request": round(statistics.median(rounds), 2), "min_us": round(min(rounds), 2),
            "written": stats.written, "dropped": stats.dropped, "sampled_out": stats.sampled_out}


def writer_rate(make: Callable[[int], PredictionBatch], rows: int, per_request: int) -> dict[str, Any]:
    """Rows per second one flush converts and writes, from a queue of ``rows`` rows."""
    with tempfile.TemporaryDirectory() as root:
        log = PredictionLog(root, flush_interval_s=3600, max_queue_rows=rows + per_request)
        for i in range(rows // per_request):
            log.submit(make(i))
        queued = log.stats().queued
        start = time.perf_counter()
        log.flush()
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(root).rglob("*.parquet"))
        log.close()
    return {"rows": queued, "seconds": round(seconds, 3), "rows_per_s": round(queued / seconds),
            "us_per_row": round(seconds / queued * 1e6, 2), "bytes_per_row": round(size / queued, 1)}


def together(make: Callable[[int], PredictionBatch], seconds: float) -> dict[str, Any]:
    """Submit as fast as one thread can for ``seconds`` with the writer running, then close; the
    writer's rate is everything written over the time until ``close`` returned."""
    with tempfile.TemporaryDirectory() as root:
        log = PredictionLog(root, max_queue_rows=100_000)
        submitted = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for i in range(1000):
                log.submit(make(submitted + i))
            submitted += 1000
        elapsed = time.perf_counter() - start
        written_while_submitting = log.stats().written
        stats = log.close()
        closed = time.perf_counter() - start
    return {"seconds": round(elapsed, 2), "submitted_per_s": round(submitted / elapsed),
            "written_while_submitting": written_while_submitting, "close_s": round(closed - elapsed, 2),
            "written_per_s": round(stats.written / closed), "written": stats.written,
            "dropped": stats.dropped}


def read_costs(segments: int) -> dict[str, Any]:
    """Seconds to read a closed day of ``segments`` one-flush segments (5 rows each), before and
    after ``compact`` merged them, and how long the compaction took."""
    make = _credit(1, "records")
    day = datetime(2026, 3, 2, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as root:
        log = PredictionLog(root, flush_interval_s=3600)
        for i in range(segments):
            for k in range(5):
                batch = make(5 * i + k)
                batch.time = day + timedelta(seconds=i)
                log.submit(batch)
            log.flush()
        log.close()
        start = time.perf_counter()
        rows = len(read_predictions(root, "credit"))
        before = time.perf_counter() - start
        start = time.perf_counter()
        compact(root, "credit")
        compaction = time.perf_counter() - start
        start = time.perf_counter()
        assert len(read_predictions(root, "credit")) == rows
        after = time.perf_counter() - start
    return {"segments": segments, "rows": rows, "read_s": round(before, 3),
            "compact_s": round(compaction, 3), "read_after_compact_s": round(after, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--segments", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"submit": {}, "writer": {}}
    for name, make in (("numeric_8_cols", _numeric(1)), ("credit_13_cols_frame", _credit(1))):
        results["submit"][name] = submit_cost(make, args.requests, 1.0)
        results["submit"][name + "_sampled_10pct"] = submit_cost(make, args.requests, 0.1)
    shapes: list[tuple[str, Callable[[int], Callable[[int], PredictionBatch]]]] = [
        ("numeric_8_cols_matrix", _numeric), ("credit_13_cols_frame", _credit),
        ("credit_13_cols_records", lambda n: _credit(n, "records")),
        ("credit_13_cols_columns", lambda n: _credit(n, "columns"))]
    for name, factory in shapes:
        for per_request in (1, 100):
            results["writer"][f"{name}_{per_request}_row_requests"] = writer_rate(
                factory(per_request), args.rows, per_request)
    results["together_credit_1_row"] = together(_credit(1, "records"), args.seconds)
    results["read_day"] = read_costs(args.segments)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("submit() per one-row request (batch built + submit), writer thread running:")
    for name, row in results["submit"].items():
        print(f"  {name:30s} {row['us_per_request']:8.2f} us (best round {row['min_us']:.2f} us)")
    print("writer: one flush of a full queue (convert + zstd Parquet + fsync + rename):")
    for name, row in results["writer"].items():
        print(f"  {name:44s} {row['rows_per_s']:>10,} rows/s  {row['us_per_row']:6.2f} us/row  "
              f"{row['bytes_per_row']:6.1f} bytes/row")
    row = results["together_credit_1_row"]
    print(f"one thread submitting one-row credit records flat out for {row['seconds']} s: "
          f"{row['submitted_per_s']:,} submitted/s; {row['written_while_submitting']:,} rows written "
          f"meanwhile, close() took {row['close_s']} s more; {row['written']:,} written in all "
          f"({row['written_per_s']:,} rows/s), {row['dropped']:,} dropped")
    row = results["read_day"]
    print(f"read_predictions over a day of {row['segments']:,} one-flush segments ({row['rows']:,} rows): "
          f"{row['read_s']} s; compact: {row['compact_s']} s; read after: {row['read_after_compact_s']} s")


if __name__ == "__main__":
    main()
