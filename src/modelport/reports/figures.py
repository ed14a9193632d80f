"""The report's plotly figures, built from the report's numbers alone (plain lists, so the data reads in
the HTML as the JSON holds it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go

from modelport.monitoring.drift import DriftResult
from modelport.monitoring.performance import PerformanceResult
from modelport.reports.results import Distribution, MonitorReport, Trend, WindowReport
from modelport.reports.rollout import ShadowSection, VersionRow

Figure = Any
REFERENCE = "#7f7f7f"
CURRENT = "#d62728"
OK = "#1f77b4"


def _layout(figure: Figure, title: str, height: int = 360, **more: Any) -> Figure:
    figure.update_layout(title=title, height=height, margin={"l": 60, "r": 20, "t": 50, "b": 60},
                         template="plotly_white", legend={"orientation": "h", "y": -0.2}, **more)
    return figure


def _labels(report: MonitorReport) -> list[str]:
    return [w.span.label for w in report.windows]


def _effects(windows: Sequence[WindowReport], name: str,
             pick: Callable[[WindowReport], DriftResult | None]) -> tuple[list[float | None], list[bool]]:
    values: list[float | None] = []
    drifted: list[bool] = []
    for window in windows:
        result = pick(window)
        found = next((f for f in result.features if f.feature == name), None) if result else None
        values.append(None if found is None else found.test.effect_size)
        drifted.append(found is not None and found.drifted)
    return values, drifted


def drift_heatmap(report: MonitorReport) -> Figure | None:
    """Effect size of every feature in every window; a dot marks the windows it drifted in."""
    if not report.features or not report.windows:
        return None
    rows = [_effects(report.windows, t.name, lambda w: w.data_drift) for t in report.features]
    figure = go.Figure(go.Heatmap(
        z=[values for values, _ in rows], x=_labels(report), y=[t.name for t in report.features],
        text=[["●" if d else "" for d in drifted] for _, drifted in rows], texttemplate="%{text}",
        colorscale="Reds", zmin=0, colorbar={"title": "effect size"},
        hovertemplate="%{y}<br>%{x}<br>effect size %{z:.3g}<extra></extra>"))
    return _layout(figure, "Data drift per feature and window (● drifted)",
                   height=max(300, 60 + 24 * len(report.features)))


def drift_overall(report: MonitorReport, trends: Sequence[Trend], title: str) -> Figure | None:
    """Each column's effect size over the whole range, red where it alerted."""
    shown = [t for t in trends if t.overall_effect is not None]
    if not shown:
        return None
    figure = go.Figure(go.Bar(
        x=[t.name for t in shown], y=[t.overall_effect for t in shown],
        marker_color=[CURRENT if t.alert else OK for t in shown],
        customdata=[t.overall_method for t in shown],
        hovertemplate="%{x}: %{y:.3g} (decided by %{customdata})<extra></extra>"))
    return _layout(figure, title, yaxis_title="effect size")


def output_drift(report: MonitorReport) -> Figure | None:
    """Effect size of each model output per window, with the windows it drifted in marked."""
    if not report.outputs or not report.windows:
        return None
    figure = go.Figure()
    for trend in report.outputs:
        values, drifted = _effects(report.windows, trend.name, lambda w: w.prediction_drift)
        marker = {"symbol": ["x" if d else "circle" for d in drifted],
                  "size": [11 if d else 6 for d in drifted]}
        figure.add_trace(go.Scatter(x=_labels(report), y=values, name=trend.name, mode="lines+markers",
                                    marker=marker))
    return _layout(figure, "Prediction drift per window (x: drifted)", yaxis_title="effect size")


def distribution(found: Distribution) -> Figure:
    """The reference's shares beside the recent rows' shares."""
    figure = go.Figure([
        go.Bar(x=list(found.bins), y=list(found.reference), name="reference", marker_color=REFERENCE),
        go.Bar(x=list(found.bins), y=list(found.current), name=found.current_label, marker_color=CURRENT),
    ])
    return _layout(figure, f"{found.name}: reference against {found.current_label}", barmode="group",
                   yaxis_title="share of rows")


def _metric_series(windows: Sequence[WindowReport], metric: str,
                   pick: Callable[[WindowReport], PerformanceResult | None]) -> dict[str, list[float | None]]:
    series: dict[str, list[float | None]] = {"value": [], "lower": [], "upper": []}
    for window in windows:
        result = pick(window)
        found = next((m for m in result.metrics if m.metric == metric), None) if result else None
        series["value"].append(None if found is None else found.value)
        series["lower"].append(None if found is None else found.lower)
        series["upper"].append(None if found is None else found.upper)
    return series


def performance(report: MonitorReport, metric: str) -> Figure | None:
    """One metric per window: measured, estimated, the reference's value and the alert bounds."""
    measured = _metric_series(report.windows, metric, lambda w: w.performance)
    estimated = _metric_series(report.windows, metric, lambda w: w.estimated)
    if not any(v is not None for v in measured["value"] + estimated["value"]):
        return None
    labels = _labels(report)
    reference = next((m.reference for m in report.metrics if m.metric == metric), None)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=labels, y=measured["value"], name="measured", mode="lines+markers",
                                line={"color": OK}))
    figure.add_trace(go.Scatter(x=labels, y=estimated["value"], name="estimated", mode="lines+markers",
                                line={"color": OK, "dash": "dash"}))
    if reference is not None:
        figure.add_trace(go.Scatter(x=labels, y=[reference] * len(labels), name="reference",
                                    mode="lines", line={"color": REFERENCE, "dash": "dot"}))
    for bound in ("lower", "upper"):
        source = measured[bound] if any(v is not None for v in measured[bound]) else estimated[bound]
        if any(v is not None for v in source):
            figure.add_trace(go.Scatter(x=labels, y=source, name=f"{bound} bound", mode="lines",
                                        line={"color": CURRENT, "dash": "dot", "width": 1}))
    return _layout(figure, metric, height=300)


def importance(report: MonitorReport) -> Figure | None:
    """Each feature's share of the total importance, in the reference and in the range."""
    result = report.importance
    if result is None:
        return None
    names = [f.feature for f in result.features]
    figure = go.Figure([
        go.Bar(x=names, y=[f.reference_share for f in result.features], name="reference",
               marker_color=REFERENCE),
        go.Bar(x=names, y=[f.current_share for f in result.features], name="this range",
               marker_color=CURRENT),
    ])
    return _layout(figure, "Permutation importance (share of the total)", barmode="group")


def latency(report: MonitorReport) -> Figure | None:
    """Latency percentiles per window, for all versions and for each when there are several."""
    if not report.windows:
        return None
    labels = _labels(report)
    figure = go.Figure()
    for name in ("p50", "p95", "p99"):
        values = [getattr(w.operations, f"latency_{name}") for w in report.windows]
        figure.add_trace(go.Scatter(x=labels, y=values, name=name, mode="lines+markers"))
    if len(report.overall.versions) > 1:
        for version in report.overall.versions:
            values = [w.versions[version].latency_p99 if version in w.versions else None
                      for w in report.windows]
            figure.add_trace(go.Scatter(x=labels, y=values, name=f"p99 version {version}", mode="lines",
                                        line={"dash": "dash"}))
    return _layout(figure, "Latency per window", yaxis_title="ms")


def traffic(report: MonitorReport) -> Figure | None:
    """Requests per window by status class, with the throughput on a second axis."""
    if not report.windows:
        return None
    labels = _labels(report)
    classes = sorted({c for w in report.windows for c in w.operations.status_classes})
    figure = go.Figure()
    for name in classes:
        counts = [w.operations.status_classes.get(name, 0) for w in report.windows]
        figure.add_trace(go.Bar(x=labels, y=counts, name=name))
    figure.add_trace(go.Scatter(x=labels, y=[w.operations.throughput for w in report.windows],
                                name="requests per second", yaxis="y2", mode="lines+markers",
                                line={"color": "#000000"}))
    return _layout(figure, "Requests per window by status class", barmode="stack", yaxis_title="requests",
                   yaxis2={"title": "per second", "overlaying": "y", "side": "right", "rangemode": "tozero"})


def version_predictions(rows: Sequence[VersionRow]) -> Figure | None:
    """What each served version of one endpoint predicted: its share of predictions in each bin."""
    if not rows:
        return None
    figure = go.Figure([go.Bar(x=list(row.bins), y=list(row.shares), name=row.version) for row in rows])
    return _layout(figure, f"{rows[0].endpoint}: predictions per version", barmode="group",
                   yaxis_title="share of predictions")


def shadow_segments(found: ShadowSection) -> Figure | None:
    """Where a shadow disagrees with the primary most: its disagreement in each feature segment."""
    segments = found.comparison.segments
    if not segments:
        return None
    names = [f"{s.feature} {s.segment}" for s in segments]
    figure = go.Figure(go.Bar(
        x=[s.disagreement for s in segments], y=names, orientation="h", marker_color=CURRENT,
        customdata=[[s.rows, s.mean_difference] for s in segments],
        hovertemplate="%{y}: %{x:.1%} disagree over %{customdata[0]} pairs, "
                      "mean difference %{customdata[1]:.3g}<extra></extra>"))
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(tickformat=".0%")
    return _layout(figure, f"{found.shadow} against the primary: disagreement by segment",
                   height=max(300, 80 + 24 * len(segments)), xaxis_title="share of pairs that disagree")


def shadow_latency(shadows: Sequence[ShadowSection]) -> Figure | None:
    """Latency percentiles of each shadow beside those of the primary rows it was paired with."""
    if not shadows:
        return None
    figure = go.Figure()
    names = ["p50", "p95", "p99"]
    for found in shadows:
        c = found.comparison
        for side, latency, colour in (("primary", c.primary_latency, REFERENCE),
                                      ("shadow", c.shadow_latency, CURRENT)):
            label = f"{found.shadow} {side}" if len(shadows) > 1 else side
            figure.add_trace(go.Bar(x=names, y=[latency.p50_ms, latency.p95_ms, latency.p99_ms], name=label,
                                    marker_color=colour if len(shadows) == 1 else None))
    return _layout(figure, "Latency of the paired requests: primary and shadow", barmode="group",
                   yaxis_title="ms")
