"""HTML and JSON renderings: one self-contained file holding the figures' data, and strict JSON holding
the calculators' own numbers."""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
import pytest

from modelport.monitoring.drift import DataDriftCalculator, PredictionDriftCalculator
from modelport.monitoring.estimated import EstimatedPerformanceCalculator
from modelport.monitoring.performance import PerformanceCalculator, PerformanceConfig
from modelport.monitoring.windows import by_time
from modelport.reports import MonitorReport, Reference, render_html, render_json
from modelport.reports.jsonio import plain, report_dict

SCORES = ["proba.bad", "proba.good"]


def _strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON")

    return json.loads(text, parse_constant=refuse)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(plain(value)))


@pytest.fixture(scope="module")
def html(shifted_report: MonitorReport) -> str:
    return render_html(shifted_report)


@pytest.fixture(scope="module")
def data(shifted_report: MonitorReport) -> Any:
    return _strict(render_json(shifted_report))


def test_html_fetches_nothing_from_the_network(html: str) -> None:
    sources = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]*)", html,
                         flags=re.IGNORECASE)
    assert [s for s in sources if s.lower().startswith(("http:", "https:", "//"))] == []
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html)
    assert "<link" not in html.lower()


def test_html_embeds_plotly_js_once_and_draws_every_figure(html: str, shifted_report: MonitorReport) -> None:
    assert html.count(f"plotly.js v{plotly_js_version()}") == 1
    assert len(html) > 3_000_000  # the library itself, not a pointer to it
    plots = re.findall(r'Plotly\.newPlot\(\s*"(figure-\d+)"', html)
    assert plots == [f"figure-{i}" for i in range(len(plots))]
    # heatmap, range bars, 3 distributions of inputs + 3 of outputs, output lines, 7 metrics, 2 operations
    assert len(plots) >= 15
    assert html.index('id="summary"') < html.index('id="data-drift"') < html.index('id="prediction-drift"') \
        < html.index('id="performance"') < html.index('id="importance"') < html.index('id="operations"')


def plotly_js_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


def _figure_data(html: str, figure: str) -> list[dict[str, Any]]:
    found = re.search(rf'Plotly\.newPlot\(\s*"{figure}",\s*', html)
    assert found is not None
    opening = found.end()
    decoded, _ = json.JSONDecoder().raw_decode(html[opening:])
    assert isinstance(decoded, list)
    return decoded


def test_html_holds_the_figures_data(html: str, shifted_report: MonitorReport) -> None:
    heatmap = _figure_data(html, "figure-0")[0]
    assert heatmap["type"] == "heatmap"
    assert heatmap["y"] == [t.name for t in shifted_report.features]
    expected = [[None if w.data_drift is None else w.data_drift.feature(t.name).test.effect_size
                 for w in shifted_report.windows] for t in shifted_report.features]
    assert heatmap["z"] == expected
    overall = _figure_data(html, "figure-1")[0]
    assert overall["y"] == [t.overall_effect for t in shifted_report.features]
    home = next(d for d in shifted_report.distributions if d.name == "Home")
    assert f'"y":{json.dumps(list(home.current), separators=(",", ":"))}' in html


def test_html_shows_the_summary_first_and_embeds_the_json(html: str, shifted_report: MonitorReport) -> None:
    assert "alert(s) fired" in html[:html.index('id="data-drift"')]
    for line in shifted_report.summary.lines[:3]:
        assert line.replace("'", "&#x27;") in html
    embedded = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert embedded is not None
    assert _strict(embedded.group(1).replace("<\\/", "</")) == _strict(render_json(shifted_report))


def test_names_from_the_data_are_escaped(shifted_report: MonitorReport) -> None:
    from dataclasses import replace

    hostile = replace(shifted_report, model=replace(shifted_report.model, name="<script>alert(1)</script>"))
    page = render_html(hostile)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_json_is_strict_and_round_trips(shifted_report: MonitorReport, data: Any) -> None:
    assert data == _strict(json.dumps(report_dict(shifted_report)))
    assert data["format"] == "modelport.monitor-report/1"
    assert data["summary"]["status"] == "alert"
    assert {a["subject"] for a in data["summary"]["alerts"] if a["kind"] == "data_drift"} == \
        {"Age", "Amount", "Home"}
    age = next(f for f in data["features"] if f["name"] == "Age")
    assert age["since"] == "2026-01-05T03:00:00+00:00"
    assert age["drifted_windows"] == [3, 4, 5]
    # a metric no window can define is null, never NaN
    assert "NaN" not in render_json(shifted_report)


def _windows(log: pd.DataFrame) -> list[pd.DataFrame]:
    return [w.frame for w in by_time(log, "time", "1h")]


def test_json_numbers_are_the_calculators_results(reference: Reference, shifted_log: pd.DataFrame,
                                                  data: Any) -> None:
    kinds = {spec.name: spec.kind for spec in reference.signature.inputs}
    inputs = DataDriftCalculator().fit(reference.inputs, kinds)
    outputs = PredictionDriftCalculator("prediction", SCORES).fit(reference.outputs)
    config = PerformanceConfig(target="label", scores=SCORES, classes=reference.classes)
    realized = PerformanceCalculator(config).fit(reference.labelled)
    estimated = EstimatedPerformanceCalculator(config).fit(reference.labelled)
    for frame, window in zip(_windows(shifted_log), data["windows"], strict=True):
        x = frame[[f"input.{name}" for name in kinds]].set_axis(list(kinds), axis=1).reset_index(drop=True)
        assert window["data_drift"] == _json(inputs.calculate(x).to_dict())
        scored = frame[["prediction", *SCORES, "label"]].reset_index(drop=True)
        predicted = outputs.calculate(scored[["prediction", *SCORES]])
        assert window["prediction_drift"] == _json(predicted.to_dict())
        assert window["estimated_performance"] == _json(estimated.calculate(scored).to_dict())
        measured = realized.calculate(scored)
        assert window["performance"] == (_json(measured.to_dict()) if measured.rows else None)
    assert data["overall"]["data_drift"] == _json(inputs.calculate(
        shifted_log[[f"input.{n}" for n in kinds]].set_axis(list(kinds), axis=1)).to_dict())
