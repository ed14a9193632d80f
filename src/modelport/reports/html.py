"""A report as one self-contained HTML file: plotly.js embedded once, no network fetch of any kind.

The summary comes first, then a section per area (data drift, prediction drift, performance, feature
importance, operations, and the rollout when shadows, canaries or A/B arms ran). The report's JSON is
embedded too (``<script id="report-data">``), so the numbers behind every figure and table can be read
back from the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from modelport.errors import MissingDependencyError
from modelport.monitoring.drift import DriftResult, FeatureDrift
from modelport.reports.jsonio import render_json
from modelport.reports.results import MonitorReport, Trend
from modelport.reports.rollout import RolloutSection
from modelport.reports.summary import num, pct, when

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:1rem 2rem;color:#222}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}
.meta{color:#666;margin-top:0}.status{padding:.6rem 1rem;border-radius:6px;font-weight:600}
.status.ok{background:#e6f4ea;color:#1e6b34}.status.alert{background:#fdecea;color:#a4161a}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{padding:.3rem .6rem;
border-bottom:1px solid #eee;text-align:right}th:first-child,td:first-child{text-align:left}
tr.alert td{background:#fdecea}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));
gap:.5rem}ul{line-height:1.5}
"""


class Page:
    """Accumulates the body; embeds plotly.js with the first figure only."""

    def __init__(self, plotly_io: Any) -> None:
        self.io = plotly_io
        self.parts: list[str] = []
        self.figures = 0

    def add(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, figure: Any) -> None:
        if figure is None:
            return
        self.parts.append(self.io.to_html(
            figure, full_html=False, include_plotlyjs=self.figures == 0, include_mathjax=False,
            div_id=f"figure-{self.figures}", config={"displaylogo": False, "responsive": True}))
        self.figures += 1


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return num(value)
    return escape("-" if value is None else str(value))


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], alerts: Iterable[bool] = ()) -> str:
    flags = list(alerts)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        marked = ' class="alert"' if i < len(flags) and flags[i] else ""
        body.append(f"<tr{marked}>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _items(lines: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def _overall(result: DriftResult | None, name: str) -> FeatureDrift | None:
    if result is None:
        return None
    return next((f for f in result.features if f.feature == name), None)


def drift_table(trends: Sequence[Trend], overall: DriftResult | None) -> str:
    headers = ["column", "kind", "test (range)", "statistic", "p-value (adjusted)", "effect size",
               "drifted windows", "since", "trusted", "alert"]
    rows = []
    for t in trends:
        whole = _overall(overall, t.name)
        rows.append([t.name, t.kind, t.overall_method, whole.test.statistic if whole else None,
                     whole.p_value_adjusted if whole else None, t.overall_effect,
                     f"{len(t.drifted_windows)} of {t.evaluated}", when(t.since or t.first), t.trusted,
                     t.alert])
    return table(headers, rows, [t.alert for t in trends])


def summary_section(page: Page, report: MonitorReport) -> None:
    summary = report.summary
    text = f"{len(summary.alerts)} alert(s) fired" if summary.alerts else "No alerts"
    page.add(f'<section id="summary"><h2>Summary</h2><p class="status {summary.status}">{escape(text)}</p>')
    if summary.alerts:
        page.add("<h3>Alerts</h3>" + _items(f"[{a.kind}] {a.message}" for a in summary.alerts))
    page.add("<h3>What happened</h3>" + _items(summary.lines))
    page.add("<h3>What to do</h3>" + _items(summary.actions) + "</section>")


def drift_sections(page: Page, report: MonitorReport, figures: Any) -> None:
    page.add('<section id="data-drift"><h2>Data drift</h2>')
    page.figure(figures.drift_heatmap(report))
    page.figure(figures.drift_overall(report, report.features, "Data drift over the whole range"))
    page.add(drift_table(report.features, report.overall.data_drift))
    inputs = {t.name for t in report.features}
    for found in report.distributions:
        if found.name in inputs:
            page.figure(figures.distribution(found))
    page.add('</section><section id="prediction-drift"><h2>Prediction drift</h2>')
    page.figure(figures.output_drift(report))
    page.add(drift_table(report.outputs, report.overall.prediction_drift))
    for found in report.distributions:
        if found.name not in inputs:
            page.figure(figures.distribution(found))
    page.add("</section>")


def performance_section(page: Page, report: MonitorReport, figures: Any) -> None:
    page.add('<section id="performance"><h2>Performance</h2>')
    if not report.metrics:
        page.add("<p>Not measured: no labels to measure with and no probabilities to estimate from.</p>")
    rows = [[m.metric, "estimated" if m.estimated else "measured", m.reference, m.first, m.latest,
             m.latest_rows, m.overall, m.change, ", ".join(map(str, m.alert_windows)) or "-", m.alert]
            for m in report.metrics]
    headers = ["metric", "kind", "reference", "first window", "latest window", "rows (latest)",
               "whole range", "latest - reference", "windows beyond bound", "alert"]
    page.add(table(headers, rows, [m.alert for m in report.metrics]))
    page.add('<div class="grid">')
    for name in dict.fromkeys(m.metric for m in report.metrics):
        page.figure(figures.performance(report, name))
    page.add("</div></section>")


def importance_section(page: Page, report: MonitorReport, figures: Any) -> None:
    page.add('<section id="importance"><h2>Feature importance</h2>')
    result = report.importance
    if result is None:
        page.add("<p>Not computed (see the notes).</p></section>")
        return
    page.add(f"<p>Rank correlation with the reference: {escape(num(result.correlation))} "
             f"(alert below {escape(num(result.threshold))}) on {result.rows:,} labelled rows.</p>")
    page.figure(figures.importance(report))
    rows = [[f.feature, f.reference, f.current, f.reference_rank, f.current_rank, f.rank_change]
            for f in result.features]
    page.add(table(["feature", "reference", "this range", "reference rank", "rank now", "places moved"], rows)
             + "</section>")


def operations_section(page: Page, report: MonitorReport, figures: Any) -> None:
    page.add('<section id="operations"><h2>Operations</h2>')
    rows = []
    for name, ops in {"all": report.overall.operations, **report.overall.versions}.items():
        classes = ", ".join(f"{k}: {v:,}" for k, v in ops.status_classes.items())
        rows.append([name, ops.requests, ops.throughput, ops.latency_p50, ops.latency_p95, ops.latency_p99,
                     pct(ops.error_rate), pct(ops.server_error_rate), classes])
    page.add(table(["version", "requests", "per second", "p50 ms", "p95 ms", "p99 ms", "errors",
                    "server errors", "status classes"], rows))
    use = report.overall.resources
    if use is not None:
        page.add("<h3>Serving processes</h3>")
        headers = ["host", "pid", "samples", "CPU cores (mean)", "CPU cores (max)", "memory MiB (mean)",
                   "memory MiB (max)"]
        page.add(table(headers, [[p.host, p.pid, p.samples, p.cpu_mean, p.cpu_max, p.rss_mean / 2**20,
                                  p.rss_max / 2**20] for p in use.processes]))
    page.figure(figures.latency(report))
    page.figure(figures.traffic(report))
    page.add("</section>")


def _shadow_rows(section: RolloutSection) -> list[list[object]]:
    rows: list[list[object]] = []
    for found in section.shadows:
        c = found.comparison
        rows.append([found.endpoint, found.shadow, ", ".join(found.primaries), c.pairs, pct(c.agreement),
                     c.mean_difference, c.max_difference, c.missing_shadow, c.shadow_failures,
                     c.primary_latency.p99_ms, c.shadow_latency.p99_ms])
    return rows


def rollout_section(page: Page, section: RolloutSection, figures: Any) -> None:
    page.add('<section id="rollout"><h2>Rollout</h2>')
    if section.shadows:
        page.add("<h3>Shadows</h3><p>Each shadow's answers paired with the primary answers it copied "
                 "(agreement: same label, or numbers within 1e-6; difference: of the class "
                 "probabilities, or of the numbers).</p>")
        page.add(table(["endpoint", "shadow", "against", "pairs", "agreement", "mean difference",
                        "max difference", "copies lost", "shadow failures", "primary p99 ms",
                        "shadow p99 ms"], _shadow_rows(section)))
        page.figure(figures.shadow_latency(section.shadows))
        for found in section.shadows:
            page.figure(figures.shadow_segments(found))
    if section.versions:
        page.add("<h3>Versions</h3>")
        rows = [[v.endpoint, v.version, ", ".join(v.roles), v.requests, pct(v.error_rate), v.p50_ms, v.p99_ms]
                for v in section.versions]
        headers = ["endpoint", "version", "roles", "requests", "server errors", "p50 ms", "p99 ms"]
        page.add(table(headers, rows))
        for endpoint in dict.fromkeys(v.endpoint for v in section.versions):
            page.figure(figures.version_predictions([v for v in section.versions if v.endpoint == endpoint]))
    page.add("</section>")


def render_html(report: MonitorReport) -> str:
    """The report as one HTML document that opens offline."""
    try:
        import plotly.io as plotly_io

        from modelport.reports import figures
    except ImportError as exc:
        raise MissingDependencyError("plotly", "reports") from exc
    page = Page(plotly_io)
    model = report.model
    reference = model.reference_version or model.reference_digest[:12]
    title = f"Monitoring report: {model.name}"
    meta = (f"{when(report.since)} to {when(report.until)}, windows of {report.window}; reference "
            f"{reference} (sha256 {model.reference_digest[:12]}), {model.reference_rows:,} rows.")
    page.add(f'<header><h1>{escape(title)}</h1><p class="meta">{escape(meta)}</p></header>')
    summary_section(page, report)
    drift_sections(page, report, figures)
    performance_section(page, report, figures)
    importance_section(page, report, figures)
    operations_section(page, report, figures)
    if report.rollout is not None:
        rollout_section(page, report.rollout, figures)
    if report.notes:
        page.add('<section id="notes"><h2>Notes</h2>' + _items(report.notes) + "</section>")
    data = render_json(report, indent=None).replace("</", "<\\/")
    page.add(f'<script type="application/json" id="report-data">{data}</script>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(page.parts)}</body></html>\n")
