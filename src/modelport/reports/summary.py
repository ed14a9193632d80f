"""The top of a report in plain sentences: what drifted, how much, since when, the performance trend,
the alerts that fired, and what to do about them."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from modelport.monitoring.performance import LOWER_IS_BETTER
from modelport.reports.config import ReportConfig
from modelport.reports.results import Alert, MetricTrend, MonitorReport, Summary, Trend

EFFECTS = {"wasserstein_std": "Wasserstein distance {} reference standard deviations",
           "jensen_shannon": "Jensen-Shannon distance {}"}
HEADLINE = {"classification": ("accuracy", "roc_auc"), "regression": ("rmse", "r2")}


def when(moment: pd.Timestamp | None) -> str:
    """A timestamp as people read it: ``2026-01-01 03:00 UTC``."""
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        return moment.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2g} %"


def effect(trend: Trend, value: float | None) -> str:
    return EFFECTS.get(trend.effect_size_name, trend.effect_size_name + " {}").format(num(value))


def _since(trend: Trend) -> str:
    if trend.since is not None:
        return f"since {when(trend.since)}"
    if trend.first is not None:
        return f"first in the window from {when(trend.first)}"
    return "over the whole range, not in any one window"


def _drift_phrase(trend: Trend) -> str:
    return (f"{trend.name} ({effect(trend, trend.latest_effect)} in the latest window, "
            f"{num(trend.overall_effect)} over the range; drifted in {len(trend.drifted_windows)} of "
            f"{trend.evaluated} windows, {_since(trend)})")


def _drift_lines(trends: Sequence[Trend], what: str, plural: str) -> list[str]:
    alerted = [t for t in trends if t.alert]
    lines = []
    if alerted:
        lines.append(f"{what.capitalize()} drift in {len(alerted)} of {len(trends)} {plural}: "
                     + "; ".join(_drift_phrase(t) for t in alerted) + ".")
    elif trends:
        lines.append(f"No {what} drift in the {len(trends)} {plural}.")
    isolated = [t for t in trends if t.trusted and not t.alert and t.drifted_windows]
    if isolated:
        lines.append(f"{what.capitalize()} drift in single windows only, which a sound test shows now "
                     "and then, so no alert: "
                     + ", ".join(f"{t.name} (windows {', '.join(map(str, t.drifted_windows))})"
                                 for t in isolated) + ".")
    untrusted = [t.name for t in trends if not t.trusted]
    if untrusted:
        lines.append("Not trusted, because their test alarmed when the reference was compared with "
                     f"itself (A/A check), so they never alert: {', '.join(untrusted)}.")
    return lines


def _against(metric: MetricTrend, value: float | None) -> str:
    if metric.reference is None:
        return f"{metric.metric} {num(value)}"
    change = "" if value is None else f", {value - metric.reference:+.3g}"
    return f"{metric.metric} {num(value)} against {num(metric.reference)} on the reference{change}"


def _performance_lines(report: MonitorReport) -> list[str]:
    realized = [m for m in report.metrics if not m.estimated]
    estimated = [m for m in report.metrics if m.estimated]
    lines = []
    headline = HEADLINE.get(report.model.task, ())
    if realized:
        lines.append(f"Performance on {report.overall.span.labelled:,} labelled predictions: "
                     + "; ".join(_against(m, m.overall) for m in realized) + ".")
        trend = [m for m in realized if m.metric in headline and m.first is not None]
        if trend:
            lines.append("Trend: " + "; ".join(
                f"{m.metric} went from {num(m.first)} in the first labelled window to {num(m.latest)} in "
                "the latest" for m in trend) + ".")
    if estimated:
        unlabelled = sum(1 for w in report.windows if w.performance is None and w.estimated is not None)
        lines.append(f"Estimated from calibrated probabilities for the {unlabelled} windows without labels "
                     "(an estimate, not a measurement): "
                     + "; ".join(_against(m, m.latest) + " in the latest" for m in estimated
                                 if m.metric in headline) + ".")
    if not realized and not estimated:
        reason = ("no window had labels, and there were no probabilities and labelled reference to "
                  "estimate with" if report.model.task in HEADLINE
                  else f"the model's task is {report.model.task}")
        lines.append(f"Performance was not measured: {reason}.")
    alerted = [m for m in report.metrics if m.alert]
    if alerted:
        lines.append("Beyond its alert bound: " + ", ".join(
            f"{m.metric}{' (estimated)' if m.estimated else ''}"
            f"{' since ' + when(m.since) if m.since is not None else ' over the range'}"
            for m in alerted) + ".")
    return lines


def _operations_line(report: MonitorReport) -> str:
    ops = report.overall.operations
    line = (f"{ops.requests:,} requests, {num(ops.throughput)} per second; latency p50 "
            f"{num(ops.latency_p50)} ms, p95 {num(ops.latency_p95)} ms, p99 {num(ops.latency_p99)} ms; "
            f"{pct(ops.error_rate)} errors, {pct(ops.server_error_rate)} server errors.")
    use = report.overall.resources
    if use is not None:
        line += (f" {len(use.processes)} serving process(es) kept {num(use.cpu_cores)} cores busy on average "
                 f"and held up to {use.rss_bytes / 2**20:,.0f} MiB of memory.")
    if len(report.overall.versions) > 1:
        line += " By version: " + "; ".join(
            f"{name}: {o.requests:,} requests, p99 {num(o.latency_p99)} ms, {pct(o.error_rate)} errors"
            for name, o in report.overall.versions.items()) + "."
    return line


def _importance_line(report: MonitorReport) -> list[str]:
    result = report.importance
    if result is None:
        return []
    moved = f"; moved most: {', '.join(result.moved)}" if result.moved else ""
    return [f"Feature importance on {result.rows:,} labelled rows: rank correlation "
            f"{num(result.correlation)} with the reference's (alert below {num(result.threshold)}){moved}."]


def alerts(report: MonitorReport, config: ReportConfig) -> tuple[Alert, ...]:
    """Every alert the report fires, in the order of its sections."""
    out = [Alert("data_drift", t.name, f"input {_drift_phrase(t)}", t.since or t.first,
                 t.overall_effect) for t in report.features if t.alert]
    out += [Alert("prediction_drift", t.name, f"output {_drift_phrase(t)}", t.since or t.first,
                  t.overall_effect) for t in report.outputs if t.alert]
    for m in report.metrics:
        if m.alert:
            worse = "rose" if m.metric in LOWER_IS_BETTER else "fell"
            value = m.latest if m.overall is None else m.overall
            kind = "estimated_performance" if m.estimated else "performance"
            against = ("beyond its fixed bound" if m.reference is None
                       else f"against {num(m.reference)} on the reference")
            out.append(Alert(kind, m.metric, f"{'estimated ' if m.estimated else ''}{m.metric} {worse} to "
                             f"{num(value)} {against}", m.since, value))
    if report.importance is not None and report.importance.alert:
        result = report.importance
        out.append(Alert("importance", "ranking", "feature-importance rank correlation "
                         f"{num(result.correlation)} is below {num(result.threshold)}", None,
                         result.correlation, result.threshold))
    for name, ops in report.overall.versions.items():
        limit, rate = config.max_server_error_rate, ops.server_error_rate
        if limit is not None and rate is not None and rate > limit:
            out.append(Alert("errors", name, f"version {name} answered {pct(rate)} of requests with a "
                             f"server error (limit {pct(limit)})", None, rate, limit))
        limit, p99 = config.max_latency_p99_ms, ops.latency_p99
        if limit is not None and p99 is not None and p99 > limit:
            out.append(Alert("latency", name, f"version {name} has a p99 latency of {num(p99)} ms "
                             f"(limit {num(limit)} ms)", None, p99, limit))
    return tuple(out)


def actions(report: MonitorReport, fired: Sequence[Alert]) -> tuple[str, ...]:
    """What to do, one sentence per kind of alert (or a word that nothing needs doing)."""
    kinds = {a.kind for a in fired}
    name = report.model.name
    out = []
    if "data_drift" in kinds:
        drifted = ", ".join(report.drifted)
        out.append(f"Check what feeds {drifted}: a changed unit, default value or upstream source looks "
                   "like this. If the change is real and lasting, retrain on recent data, register the new "
                   "version and compare it as a candidate before moving production.")
    if "prediction_drift" in kinds and "data_drift" not in kinds:
        out.append("The outputs moved while the monitored inputs did not: look at the inputs that are not "
                   "monitored and at which versions served the range.")
    if "performance" in kinds:
        out.append(f"Performance broke its bound: compare with the previous version and roll back if it "
                   f"did better (modelport rollback {name}), then retrain on recent labelled data.")
    if "estimated_performance" in kinds:
        out.append("The estimated performance fell: send the labels as they arrive to confirm it with "
                   "measured figures.")
    if "importance" in kinds:
        out.append("The model now relies on its features differently: the relation between inputs and "
                   "label has changed, so retrain on recent labelled data.")
    if "errors" in kinds or "latency" in kinds:
        out.append("Look up the failing or slow requests in the server log (each error carries an id) and "
                   "the serving metrics before touching the model.")
    if not any(w.performance is not None for w in report.windows) and report.model.task in HEADLINE:
        out.append("No labels have arrived for this range: send them as feedback to measure performance "
                   "instead of estimating it.")
    untrusted = [t.name for t in report.features if not t.trusted]
    if untrusted:
        out.append(f"Give {', '.join(untrusted)} a threshold of their own, or the reference more rows, so "
                   "their drift can be trusted.")
    if not fired:
        out.insert(0, "Nothing needs doing now; keep this report running on a schedule.")
    return tuple(out)


def summarize(report: MonitorReport, config: ReportConfig) -> Summary:
    """The summary of a report whose sections are complete."""
    fired = alerts(report, config)
    span = report.overall.span
    versions = ", ".join(report.overall.versions) or "-"
    reference = report.model.reference_version or report.model.reference_digest[:12]
    lines = [f"{span.requests:,} predictions of {report.model.name} (version {versions}) from "
             f"{when(span.start)} to {when(span.end)} in {len(report.windows)} windows of {report.window}, "
             f"against the reference sample of {reference} ({report.model.reference_rows:,} rows)."]
    if fired:
        lines.append(f"{len(fired)} alert(s) fired.")
    lines += _drift_lines(report.features, "data", "monitored features")
    lines += _drift_lines(report.outputs, "prediction", "model outputs")
    lines += _performance_lines(report)
    lines += _importance_line(report)
    lines.append(_operations_line(report))
    return Summary(fired, tuple(lines), actions(report, fired))
