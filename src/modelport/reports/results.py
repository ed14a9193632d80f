"""The monitoring report as plain dataclasses: per-window calculator results, trends, alerts, summary.

Nothing here renders; :mod:`modelport.reports.html` and :mod:`modelport.reports.jsonio` do. Every
calculator result is kept as the calculator returned it, so the report's numbers are the
calculators' numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from modelport.monitoring.drift import DriftResult
from modelport.monitoring.importance import ImportanceResult
from modelport.monitoring.performance import PerformanceResult
from modelport.reports.operations import Operations
from modelport.reports.resources import ResourceUse
from modelport.reports.rollout import RolloutSection


def iso(moment: pd.Timestamp | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class Span:
    """Where one window lies: its time span (first to last record for count windows) and its rows."""

    index: int
    label: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    requests: int
    scored: int
    labelled: int
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "label": self.label, "start": iso(self.start), "end": iso(self.end),
                "requests": self.requests, "scored": self.scored, "labelled": self.labelled,
                "complete": self.complete}


@dataclass(frozen=True)
class WindowReport:
    """Every calculator's result on one window; None where the window could not be evaluated."""

    span: Span
    operations: Operations
    versions: Mapping[str, Operations]
    data_drift: DriftResult | None = None
    prediction_drift: DriftResult | None = None
    performance: PerformanceResult | None = None
    estimated: PerformanceResult | None = None
    #: CPU and memory of the serving processes (None: the log holds no samples for the span)
    resources: ResourceUse | None = None

    def to_dict(self) -> dict[str, Any]:
        def maybe(result: DriftResult | PerformanceResult | ResourceUse | None) -> dict[str, Any] | None:
            return None if result is None else result.to_dict()

        return {"span": self.span.to_dict(), "operations": self.operations.to_dict(),
                "versions": {name: ops.to_dict() for name, ops in self.versions.items()},
                "data_drift": maybe(self.data_drift), "prediction_drift": maybe(self.prediction_drift),
                "performance": maybe(self.performance), "estimated_performance": maybe(self.estimated),
                "resources": maybe(self.resources)}


@dataclass(frozen=True)
class Trend:
    """One monitored column (a feature or a model output) across the windows.

    ``since`` is the start of the trailing run of windows it drifted in (None when the latest
    evaluated window did not drift); ``first`` the start of the first window it drifted in.
    """

    name: str
    kind: str
    effect_size_name: str
    evaluated: int
    drifted_windows: tuple[int, ...]
    run: int
    since: pd.Timestamp | None
    first: pd.Timestamp | None
    latest_effect: float | None
    max_effect: float | None
    overall_method: str | None
    overall_effect: float | None
    overall_drifted: bool
    trusted: bool
    alert: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "effect_size_name": self.effect_size_name,
                "evaluated_windows": self.evaluated, "drifted_windows": list(self.drifted_windows),
                "trailing_run": self.run, "since": iso(self.since), "first": iso(self.first),
                "latest_effect": self.latest_effect, "max_effect": self.max_effect,
                "overall_method": self.overall_method, "overall_effect": self.overall_effect,
                "overall_drifted": self.overall_drifted, "trusted": self.trusted, "alert": self.alert}


@dataclass(frozen=True)
class MetricTrend:
    """One performance metric across the windows: the reference's value, the first and latest."""

    metric: str
    estimated: bool
    reference: float | None
    first: float | None
    latest: float | None
    overall: float | None
    alert_windows: tuple[int, ...]
    since: pd.Timestamp | None
    alert: bool
    #: the rows the latest value was computed on
    latest_rows: int | None = None

    @property
    def change(self) -> float | None:
        """The latest value minus the reference's."""
        return None if self.latest is None or self.reference is None else self.latest - self.reference

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "estimated": self.estimated, "reference": self.reference,
                "first": self.first, "latest": self.latest, "overall": self.overall,
                "change": self.change, "latest_rows": self.latest_rows,
                "alert_windows": list(self.alert_windows), "since": iso(self.since), "alert": self.alert}


@dataclass(frozen=True)
class Distribution:
    """One column's shares in the reference and in the recent rows, over shared bins or levels."""

    name: str
    kind: str
    bins: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    current_label: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "bins": list(self.bins),
                "reference": list(self.reference), "current": list(self.current),
                "current_label": self.current_label}


@dataclass(frozen=True)
class Alert:
    """One alert: which area, about what, since when, and a sentence saying it."""

    kind: str
    subject: str
    message: str
    since: pd.Timestamp | None = None
    value: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message,
                "since": iso(self.since), "value": self.value, "threshold": self.threshold}


@dataclass(frozen=True)
class Summary:
    """The top of the report: alerts fired, plain sentences on what happened, and what to do."""

    alerts: tuple[Alert, ...]
    lines: tuple[str, ...]
    actions: tuple[str, ...]

    @property
    def status(self) -> str:
        return "alert" if self.alerts else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "alerts": [a.to_dict() for a in self.alerts],
                "lines": list(self.lines), "actions": list(self.actions)}


@dataclass(frozen=True)
class ModelInfo:
    """The model the report is about and the reference it compares with."""

    name: str
    task: str
    classes: tuple[Any, ...]
    reference_digest: str
    reference_version: str | None
    reference_rows: int
    features: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "classes": list(self.classes),
                "reference_digest": self.reference_digest, "reference_version": self.reference_version,
                "reference_rows": self.reference_rows, "features": list(self.features)}


@dataclass(frozen=True)
class MonitorReport:
    """Everything a report shows; ``overall`` is the whole range taken as one window."""

    model: ModelInfo
    window: str
    since: pd.Timestamp | None
    until: pd.Timestamp | None
    windows: tuple[WindowReport, ...]
    overall: WindowReport
    features: tuple[Trend, ...]
    outputs: tuple[Trend, ...]
    metrics: tuple[MetricTrend, ...]
    distributions: tuple[Distribution, ...]
    importance: ImportanceResult | None
    summary: Summary
    notes: tuple[str, ...] = field(default=())
    #: shadows, canaries and A/B arms in the range (computed by the composition root); None when none ran
    rollout: RolloutSection | None = None

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return self.summary.alerts

    @property
    def drifted(self) -> tuple[str, ...]:
        """The features whose data drift alerted."""
        return tuple(t.name for t in self.features if t.alert)

    def feature(self, name: str) -> Trend:
        for trend in self.features:
            if trend.name == name:
                return trend
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.to_dict(), "window": self.window, "since": iso(self.since),
                "until": iso(self.until), "summary": self.summary.to_dict(),
                "features": [t.to_dict() for t in self.features],
                "outputs": [t.to_dict() for t in self.outputs],
                "metrics": [m.to_dict() for m in self.metrics],
                "distributions": [d.to_dict() for d in self.distributions],
                "importance": None if self.importance is None else self.importance.to_dict(),
                "overall": self.overall.to_dict(), "windows": [w.to_dict() for w in self.windows],
                "notes": list(self.notes),
                "rollout": None if self.rollout is None else self.rollout.to_dict()}
