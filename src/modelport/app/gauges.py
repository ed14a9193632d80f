"""The latest drift and performance figures of each served version as Prometheus gauges.

Every figure is the report's own number over the monitored range (``modelport monitor report``
over the same rows gives the same values): a feature's and an output's drift effect size over the
whole range and whether its drift alerts; the dataset's drift share; each performance metric over
the range (realized where labels arrived, estimated from the probabilities otherwise) and whether
it alerts; how many alerts fire; how many predictions the range held; and when all that was
computed (so a rule can tell stale figures from quiet ones). A figure that has no value now (no
rows in the range) reads NaN rather than keeping an old value.

Labels are bounded: ``model`` and ``version`` are the served ones, ``feature`` comes from the
signature, ``output`` from the output schema (``prediction`` and one ``proba.<class>`` per known
class), ``metric`` from the calculators' fixed metric names.

Several workers: every gauge uses ``multiprocess_mode="mostrecent"``. The figures are computed from
the one prediction log every worker writes to, so each worker would compute the same numbers; a
sum (``livesum``, ``all``) would multiply them by the number of workers, ``max``/``min`` would keep a
value computed before the log moved on, and ``mostrecent`` exports the newest computation, which is
the right one. Only one worker computes at a time anyway (:mod:`modelport.app.monitor`), and when
it dies the next one's newer values win over the dead one's.
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd
from prometheus_client import CollectorRegistry, Gauge

from modelport.reports import MonitorReport

MODE: Literal["mostrecent"] = "mostrecent"


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


class MonitorGauges:
    """The gauges, registered on the server's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        #: which labels of which gauge each version's last update set
        self._set: dict[tuple[str, str], set[tuple[Gauge, tuple[str, ...]]]] = {}

        def gauge(name: str, text: str, labels: list[str]) -> Gauge:
            return Gauge(name, text, ["model", "version", *labels], registry=registry, multiprocess_mode=MODE)

        self.feature_drift = gauge("modelport_feature_drift",
                                   "Drift effect size of an input feature over the monitored range.",
                                   ["feature"])
        self.feature_drift_alert = gauge("modelport_feature_drift_alert",
                                         "1 when the feature's drift alerts (held or over the range).",
                                         ["feature"])
        self.drift_share = gauge("modelport_drift_share",
                                 "Share of monitored features that drifted over the range.", [])
        self.prediction_drift = gauge("modelport_prediction_drift",
                                      "Drift effect size of a model output over the monitored range.",
                                      ["output"])
        self.prediction_drift_alert = gauge("modelport_prediction_drift_alert",
                                            "1 when the output's drift alerts.", ["output"])
        self.performance = gauge("modelport_model_performance",
                                 "A performance metric over the range, against delayed labels.", ["metric"])
        self.estimated_performance = gauge(
            "modelport_model_performance_estimated",
            "A performance metric estimated from the predicted probabilities (no labels yet).", ["metric"])
        self.performance_alert = gauge("modelport_model_performance_alert",
                                       "1 when the metric breaks its bound (held or over the range).",
                                       ["metric"])
        self.alerts = gauge("modelport_monitor_alerts", "Alerts the monitoring report fires now.", [])
        self.rows = gauge("modelport_monitor_predictions",
                          "Predictions (logged requests) in the monitored range.", [])
        self.updated = gauge("modelport_monitor_updated_timestamp_seconds",
                             "When these figures were computed (Unix time).", [])

    def update(self, model: str, version: str, report: MonitorReport, computed_at: pd.Timestamp) -> None:
        """Set every gauge of ``model`` ``version`` from ``report`` (NaN for what it no longer holds)."""
        figures: dict[tuple[Gauge, tuple[str, ...]], float] = {}
        for trends, effect, alert in ((report.features, self.feature_drift, self.feature_drift_alert),
                                      (report.outputs, self.prediction_drift, self.prediction_drift_alert)):
            for trend in trends:
                figures[effect, (trend.name,)] = _number(trend.overall_effect)
                figures[alert, (trend.name,)] = float(trend.alert)
        data = report.overall.data_drift
        figures[self.drift_share, ()] = _number(None if data is None else data.drift_share)
        for metric in report.metrics:
            value = self.estimated_performance if metric.estimated else self.performance
            figures[value, (metric.metric,)] = _number(metric.overall)
            figures[self.performance_alert, (metric.metric,)] = float(metric.alert)
        figures[self.alerts, ()] = float(len(report.alerts))
        figures[self.rows, ()] = float(report.overall.span.requests)
        figures[self.updated, ()] = computed_at.timestamp()
        previous = self._set.get((model, version), set())
        for gauge, labels in previous - figures.keys():
            gauge.labels(model, version, *labels).set(math.nan)
        for (gauge, labels), number in figures.items():
            gauge.labels(model, version, *labels).set(number)
        self._set[model, version] = set(figures)
