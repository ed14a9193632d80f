"""Window statistics from a real prediction log, and the gates' measures against scipy."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from modelport.predictions import FeedbackStore, PredictionBatch, PredictionLog, joined, read_predictions
from modelport.promotion.gates import Outcome, disagreement, judge
from modelport.promotion.window import WindowStats, window_statistics
from modelport.rollout import Gates, parse_metric_gate
from tests.unit.predictions.helpers import classified

HOUR = 3600.0
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _log(root: Path) -> tuple[list[str], list[str]]:
    with PredictionLog(root, flush_interval_s=HOUR) as log:
        primary = log.submit(classified(6, version="1", time=AT))
        canary = log.submit(classified(3, version="2", role="canary", time=AT))
        log.submit(PredictionBatch("credit", "credit", "2", None, role="canary", status=500,
                                   latency_ms=900.0, time=AT))
        log.submit(PredictionBatch("credit", "credit", "2", None, role="canary", status=422,
                                   latency_ms=1.0, time=AT))
        log.submit(classified(4, version="3", role="shadow", time=AT))
    return primary, canary


def test_statistics_per_version_from_the_log(tmp_path: Path) -> None:
    _log(tmp_path)
    found = window_statistics(read_predictions(tmp_path, "credit"))
    assert set(found) == {"credit:1", "credit:2"}  # the shadow did not answer anyone
    primary, canary = found["credit:1"], found["credit:2"]
    assert (primary.requests, primary.errors, primary.error_rate) == (6, 0, 0.0)
    assert (canary.requests, canary.errors) == (5, 1)  # a 422 is the caller's fault, not an error
    assert canary.p99_ms == pytest.approx(float(np.percentile([2.5, 2.5, 2.5, 900.0, 1.0], 99)))
    assert primary.predictions == tuple(classified(6).predictions)  # type: ignore[arg-type]
    assert canary.predictions == tuple(classified(3).predictions)  # type: ignore[arg-type]
    assert len(set(primary.predictions)) == 2
    by_role = window_statistics(read_predictions(tmp_path, "credit"), by="role", roles=("primary", "canary",
                                                                                         "shadow"))
    assert {role: s.requests for role, s in by_role.items()} == {"canary": 5, "primary": 6, "shadow": 4}
    assert window_statistics(read_predictions(tmp_path, "credit"), endpoint="other") == {}


def test_feedback_outcomes_feed_the_business_metric(tmp_path: Path) -> None:
    primary, canary = _log(tmp_path)
    FeedbackStore(tmp_path).add("credit", primary[:4], outcomes=[True, False, False, True])
    FeedbackStore(tmp_path).add("credit", canary[:2], outcomes=[1, 0])
    found = window_statistics(joined(tmp_path, "credit"), metric="conversion")
    assert found["credit:1"].metrics == {"conversion": (1.0, 0.0, 0.0, 1.0)}
    assert found["credit:2"].metrics == {"conversion": (1.0, 0.0)}
    without = window_statistics(read_predictions(tmp_path, "credit"), metric="conversion")
    assert without["credit:1"].metrics == {"conversion": ()}


def test_text_outcomes_are_refused_for_a_metric() -> None:
    frame = pd.DataFrame({"role": ["primary"], "model": ["m"], "version": ["1"], "status": [200],
                          "latency_ms": [1.0], "prediction": [1.0], "outcome": ["yes"]})
    with pytest.raises(ValueError, match="outcomes must be numbers or booleans"):
        window_statistics(frame, metric="conversion")


def test_disagreement_agrees_with_scipy_and_bounds_by_dkw() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=300).tolist(), rng.normal(0.3, 1.0, size=500).tolist()
    name, distance, low = disagreement(a, b, 0.95)
    assert name == "kolmogorov_smirnov"
    assert distance == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    slack = math.sqrt(math.log(4 / 0.05) / 600) + math.sqrt(math.log(4 / 0.05) / 1000)
    assert low == pytest.approx(max(0.0, distance - slack), abs=1e-12)


def test_label_disagreement_is_total_variation() -> None:
    a = ["x"] * 50 + ["y"] * 30 + ["z"] * 20
    b = ["x"] * 20 + ["y"] * 30 + ["w"] * 50
    name, distance, low = disagreement(a, b, 0.9)
    assert name == "total_variation"
    assert distance == pytest.approx(0.5 * (0.3 + 0.0 + 0.2 + 0.5))
    slack = 2 * 0.5 * math.sqrt(2 * (math.log(2**4 - 2) + math.log(2 / 0.1)) / 100)
    assert low == pytest.approx(max(0.0, distance - slack))


def test_metric_gate_is_a_one_sided_z_test() -> None:
    """Fails exactly when the upper 95 % bound of canary minus primary falls below zero."""
    n = 2_000
    gates = Gates(min_requests=100, metric=parse_metric_gate("conversion>=baseline"))
    base = tuple([1.0] * 200 + [0.0] * (n - 200))  # 10 %
    for hits, expected in ((160, Outcome.FAIL), (185, Outcome.PASS)):
        ours = tuple([1.0] * hits + [0.0] * (n - hits))
        se = math.sqrt(np.var(ours, ddof=1) / n + np.var(base, ddof=1) / n)
        upper = (hits - 200) / n + stats.norm.ppf(0.95) * se
        assert (upper < 0) == (expected is Outcome.FAIL)
        results = judge(gates, WindowStats(n, 0, 1.0, (), {"conversion": base}),
                        WindowStats(n, 0, 1.0, (), {"conversion": ours}))
        assert results[-1].outcome is expected, results[-1].detail


def test_an_absolute_metric_bound_needs_no_primary_outcomes() -> None:
    gates = Gates(min_requests=10, metric=parse_metric_gate("refund_rate<=0.02"))
    high = WindowStats(1_000, 0, 1.0, (), {"refund_rate": tuple([1.0] * 60 + [0.0] * 940)})
    assert judge(gates, WindowStats(1_000, 0, 1.0), high)[-1].outcome is Outcome.FAIL
    low = WindowStats(1_000, 0, 1.0, (), {"refund_rate": tuple([1.0] * 20 + [0.0] * 980)})
    assert judge(gates, WindowStats(1_000, 0, 1.0), low)[-1].outcome is Outcome.PASS


def test_a_zero_latency_primary_does_not_divide_by_zero() -> None:
    gates = Gates(min_requests=1)
    assert judge(gates, WindowStats(5, 0, 0.0), WindowStats(5, 0, 0.0))[1].outcome is Outcome.PASS
    assert judge(gates, WindowStats(5, 0, 0.0), WindowStats(5, 0, 3.0))[1].outcome is Outcome.FAIL
