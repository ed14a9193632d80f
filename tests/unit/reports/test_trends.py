"""Trends over windows: a change alerts when it holds over the last windows or the whole range, never
from one window alone, never for a feature the A/A check did not trust."""

from __future__ import annotations

import pandas as pd
import pytest

from modelport.monitoring.drift import DriftResult, FeatureDrift
from modelport.monitoring.performance import MetricResult, PerformanceResult
from modelport.monitoring.stats import TestResult
from modelport.reports.operations import Operations
from modelport.reports.results import Span, WindowReport
from modelport.reports.trends import drift_trend, metric_trends, trailing

START = pd.Timestamp("2026-03-01", tz="UTC")


def _drift(drifted: bool, effect: float = 0.2, trusted: bool = True) -> DriftResult:
    test = TestResult("ks", effect, 0.001 if drifted else 0.5, effect, "wasserstein_std", 0.05, drifted)
    feature = FeatureDrift("x", "numerical", test, test.p_value, drifted, 100, 50, 0.0, 0.0, trusted=trusted)
    return DriftResult((feature,), 50, "bh", 0.5)


def _window(index: int, drift: DriftResult | None = None,
            performance: PerformanceResult | None = None) -> WindowReport:
    start = START + pd.Timedelta(hours=index)
    span = Span(index, start.isoformat(), start, start + pd.Timedelta(hours=1), 50, 50, 50)
    return WindowReport(span, Operations(50, 3600.0, 1.0, 2.0, 3.0, {"2xx": 50}), {}, drift,
                        performance=performance)


def _windows(flags: list[bool | None], trusted: bool = True) -> list[WindowReport]:
    return [_window(i, None if f is None else _drift(f, 0.1 * (i + 1), trusted)) for i, f in enumerate(flags)]


@pytest.mark.parametrize(("flags", "run"), [([], 0), ([True], 1), ([True, False], 0),
                                            ([False, True, True], 2), ([True, True, True], 3)])
def test_trailing_counts_the_last_run(flags: list[bool], run: int) -> None:
    assert trailing(flags) == run


def test_one_window_shows_but_two_in_a_row_alert() -> None:
    windows = _windows([False, True, False, True])
    trend = drift_trend("x", windows, _drift(False), lambda w: w.data_drift, persistence=2)
    assert (trend.drifted_windows, trend.run, trend.alert) == ((1, 3), 1, False)
    assert trend.since == START + pd.Timedelta(hours=3)
    assert trend.first == START + pd.Timedelta(hours=1)
    assert trend.latest_effect == pytest.approx(0.4)
    assert trend.max_effect == pytest.approx(0.4)

    windows = _windows([False, False, True, True])
    trend = drift_trend("x", windows, _drift(False), lambda w: w.data_drift, persistence=2)
    assert (trend.run, trend.alert, trend.since) == (2, True, START + pd.Timedelta(hours=2))


def test_an_empty_window_neither_breaks_nor_extends_a_run() -> None:
    windows = _windows([False, True, None, True])
    trend = drift_trend("x", windows, None, lambda w: w.data_drift, persistence=2)
    assert (trend.evaluated, trend.run, trend.alert) == (3, 2, True)
    assert trend.since == START + pd.Timedelta(hours=1)


def test_the_whole_range_drifting_alerts_even_when_no_window_did() -> None:
    trend = drift_trend("x", _windows([False, False]), _drift(True), lambda w: w.data_drift, persistence=2)
    assert trend.alert
    assert (trend.since, trend.first) == (None, None)
    assert trend.overall_drifted


def test_an_untrusted_feature_never_alerts() -> None:
    windows = _windows([True, True, True], trusted=False)
    trend = drift_trend("x", windows, _drift(True, trusted=False), lambda w: w.data_drift, persistence=2)
    assert not trend.trusted
    assert not trend.alert


def _performance(value: float, alert: bool, estimated: bool = False) -> PerformanceResult:
    return PerformanceResult((MetricResult("accuracy", value, 0.8, 0.75, None, alert),), 50, estimated)


def test_estimated_metrics_count_only_where_labels_are_missing() -> None:
    windows = [_window(0, performance=_performance(0.8, False)),
               _window(1, performance=_performance(0.7, True)), _window(2), _window(3)]
    unlabelled = _performance(0.6, True, True)
    windows = [w if w.performance is not None
               else WindowReport(w.span, w.operations, {}, estimated=unlabelled) for w in windows]
    windows[0] = WindowReport(windows[0].span, windows[0].operations, {},
                              performance=windows[0].performance, estimated=_performance(0.1, True, True))
    overall = WindowReport(windows[0].span, windows[0].operations, {}, performance=_performance(0.76, False))
    realized, estimated = metric_trends(windows, overall, persistence=2)
    assert (realized.first, realized.latest, realized.overall) == (0.8, 0.7, 0.76)
    assert realized.alert_windows == (1,)
    assert not realized.alert
    assert realized.change == pytest.approx(-0.1)
    assert estimated.estimated
    assert estimated.alert_windows == (2, 3)  # window 0 has labels: its estimate does not count
    assert estimated.alert
    assert estimated.since == START + pd.Timedelta(hours=2)


def test_a_quiet_metric_is_followed_but_never_alerts() -> None:
    windows = [_window(i, performance=_performance(0.7, True)) for i in range(3)]
    overall = WindowReport(windows[0].span, windows[0].operations, {}, performance=_performance(0.7, True))
    (loud,) = metric_trends(windows, overall, persistence=2)
    (quiet,) = metric_trends(windows, overall, persistence=2, quiet={"accuracy"})
    assert loud.alert
    assert not quiet.alert
    assert quiet.alert_windows == loud.alert_windows == (0, 1, 2)
