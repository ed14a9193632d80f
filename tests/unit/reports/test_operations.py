"""Operational figures of a span: status classes, percentiles and throughput as numpy computes them, and
the serving processes' CPU and memory from the samples the prediction log keeps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelport.reports import Reference, build_report, render_html, render_json
from modelport.reports.operations import by_version, operations, status_classes
from modelport.reports.resources import resource_use
from tests.prediction_logs import START


def test_status_classes_count_every_request_once() -> None:
    statuses = pd.Series([200, 201, 404, 422, 500, 503, None, 200])
    assert status_classes(statuses) == {"2xx": 3, "4xx": 2, "5xx": 2, "unknown": 1}
    assert status_classes(pd.Series([], dtype="int64")) == {}


def test_operations_of_a_span() -> None:
    frame = pd.DataFrame({"status": [200] * 7 + [500, 422, 200], "latency_ms": np.arange(1.0, 11.0),
                          "version": ["1"] * 5 + ["2"] * 5})
    ops = operations(frame, 5.0)
    assert ops.requests == 10
    assert ops.throughput == 2.0
    assert [ops.latency_p50, ops.latency_p95, ops.latency_p99] == np.percentile(np.arange(1.0, 11.0),
                                                                                 [50, 95, 99]).tolist()
    assert (ops.error_rate, ops.server_error_rate) == (0.2, 0.1)
    assert operations(frame, 0.0).throughput is None
    versions = by_version(frame, 5.0)
    assert {k: v.requests for k, v in versions.items()} == {"1": 5, "2": 5}
    assert versions["2"].status_classes == {"2xx": 3, "4xx": 1, "5xx": 1}
    empty = operations(frame.iloc[:0], 5.0)
    assert (empty.latency_p99, empty.error_rate, empty.throughput) == (None, None, 0.0)


def test_a_sampled_log_counts_each_row_as_the_requests_it_stands_for() -> None:
    frame = pd.DataFrame({"status": [200, 200, 500, 200], "latency_ms": [1.0, 2.0, 3.0, 4.0],
                          "sample_rate": [0.25, 0.25, 0.25, 0.5]})
    ops = operations(frame, 10.0)
    assert ops.requests == 4
    assert ops.served == 14.0
    assert ops.throughput == 1.4
    assert ops.server_error_rate == 0.25
    assert ops.to_dict()["served"] == 14.0
    assert operations(frame.assign(sample_rate=1.0), 10.0).sampled_served is None


def _samples() -> pd.DataFrame:
    start = pd.Timestamp("2026-01-05 00:00", tz="UTC")
    times = start + pd.to_timedelta(np.arange(0, 7200, 600), unit="s")  # every 10 minutes for two hours
    frames = []
    for pid, base in ((11, 1.0), (12, 3.0)):
        frames.append(pd.DataFrame({"time": times, "model": "credit", "host": "a", "pid": pid,
                                    "cpu_seconds": np.arange(len(times)) * 60.0 * base,
                                    "cpu_share": [None, *([0.1 * base] * (len(times) - 1))],
                                    "rss_bytes": (np.arange(len(times)) + 100) * 2**20 * base}))
    return pd.concat(frames, ignore_index=True)


def test_resource_use_per_process_and_in_total() -> None:
    samples = _samples()
    use = resource_use(samples)
    assert use is not None
    assert [(p.pid, p.samples) for p in use.processes] == [(11, 12), (12, 12)]
    first = samples[samples["pid"] == 11]
    assert use.processes[0].cpu_mean == pytest.approx(first["cpu_share"].dropna().mean())
    assert use.processes[0].rss_max == int(first["rss_bytes"].max())
    assert use.cpu_cores == pytest.approx(0.1 + 0.3)
    assert use.rss_bytes == int(samples.groupby("pid")["rss_bytes"].max().sum())
    hour = resource_use(samples, pd.Timestamp("2026-01-05 01:00", tz="UTC"),
                        pd.Timestamp("2026-01-05 02:00", tz="UTC"))
    assert hour is not None
    assert [p.samples for p in hour.processes] == [6, 6]
    assert resource_use(samples, pd.Timestamp("2026-02-01", tz="UTC")) is None
    assert resource_use(None) is None


def test_a_report_shows_the_resources_of_each_window_and_says_when_there_are_none(
        reference: Reference, steady_log: pd.DataFrame) -> None:
    samples = _samples()
    report = build_report(reference, steady_log, window="1h", resources=samples)
    assert [w.resources is not None for w in report.windows] == [True, True] + [False] * 4
    assert report.windows[1].resources == resource_use(samples, START + pd.Timedelta("1h"),
                                                       START + pd.Timedelta("2h"))
    assert report.overall.resources == resource_use(samples)
    lines = report.summary.lines
    assert any("2 serving process(es) kept 0.4 cores busy on average" in line for line in lines)
    assert json.loads(render_json(report))["overall"]["resources"]["processes"] == 2
    assert "Serving processes" in render_html(report)
    bare = build_report(reference, steady_log, window="1d")
    assert bare.overall.resources is None
    assert any("holds no resource samples" in note for note in bare.notes)
