"""Operational figures of a span: status classes, percentiles and throughput as numpy computes them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelport.reports.operations import by_version, operations, status_classes


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
