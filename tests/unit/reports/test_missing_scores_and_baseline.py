"""Reports on logs without probabilities (labels-only endpoints, old logs), and what performance alerts
are measured against: the labelled reference with a tolerance, or fixed bounds when it has no labels."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from modelport.monitoring.performance import Bound
from modelport.reports import Reference, ReportConfig, build_report, render_html, render_json

SCORES = ["proba.bad", "proba.good"]


@pytest.mark.parametrize("missing", [np.nan, None])
def test_a_log_without_probabilities_reports_the_label_metrics_and_says_why_the_rest_are_missing(
        reference: Reference, steady_log: pd.DataFrame, missing: object) -> None:
    log = steady_log.assign(**{c: pd.Series([missing] * len(steady_log), dtype=object) for c in SCORES})
    report = build_report(reference, log, window="1h")
    realized = {m.metric for m in report.metrics if not m.estimated}
    assert realized == {"accuracy", "precision", "recall", "f1"}
    assert not any(m.estimated for m in report.metrics)
    overall = report.overall.performance
    assert overall is not None
    assert overall.metric("accuracy").value == pytest.approx(
        skm.accuracy_score(log["label"], log["prediction"]), abs=1e-12)
    assert set(overall.skipped) == {"roc_auc", "log_loss", "calibration_error"}
    assert report.overall.estimated is not None
    assert report.overall.estimated.metrics == ()
    assert any(note.startswith("roc_auc, log_loss, calibration_error not computed in any window: no "
                               "probabilities were logged") for note in report.notes)
    assert any(note.startswith("Estimated performance not computed in any window") for note in report.notes)
    json.loads(render_json(report))
    assert "no probabilities were logged" in render_html(report)


def test_a_log_where_some_rows_lack_probabilities_scores_the_others(reference: Reference,
                                                                     steady_log: pd.DataFrame) -> None:
    log = steady_log.copy()
    old = log.index % 3 == 0  # as if a labels-only endpoint had answered every third request
    log.loc[old, SCORES] = np.nan
    report = build_report(reference, log, window="1d")
    overall = report.overall.performance
    assert overall is not None
    scored = log[~old]
    assert overall.metric("roc_auc").value == pytest.approx(
        skm.roc_auc_score(scored["label"] == "good", scored["proba.good"]), abs=1e-12)
    assert overall.metric("roc_auc").rows == len(scored)
    assert overall.metric("accuracy").rows == len(log)
    estimated = report.overall.estimated
    assert estimated is not None
    assert estimated.rows == len(scored)


def test_performance_alerts_are_relative_to_the_labelled_reference_and_say_so(
        reference: Reference, steady_log: pd.DataFrame) -> None:
    log = steady_log.copy()
    flip = np.random.default_rng(0).random(len(log)) < 0.15
    log.loc[flip, "label"] = np.where(log.loc[flip, "label"] == "bad", "good", "bad")
    strict = build_report(reference, log, window="1d")
    assert ("performance", "accuracy") in {(a.kind, a.subject) for a in strict.alerts}
    assert any("compare each window with the reference sample's 2,000 labelled rows" in n
               for n in strict.notes)
    accuracy = next(m for m in strict.metrics if m.metric == "accuracy")
    assert accuracy.reference is not None
    assert accuracy.latest is not None
    drop = accuracy.reference - accuracy.latest
    lenient = build_report(reference, log, window="1d",
                           config=ReportConfig(tolerances={"accuracy": drop + 0.01}))
    assert "accuracy" not in {a.subject for a in lenient.alerts if a.kind == "performance"}
    assert any(f"or its tolerance (accuracy {drop + 0.01:g})" in n for n in lenient.notes)


def test_without_labels_in_the_reference_fixed_bounds_decide_and_the_report_says_so(
        reference: Reference, steady_log: pd.DataFrame) -> None:
    unlabelled = replace(reference, target=None)
    report = build_report(unlabelled, steady_log, window="1d")
    assert {m.metric for m in report.metrics} >= {"accuracy", "roc_auc"}
    assert all(m.reference is None and not m.alert for m in report.metrics)
    assert any("The reference sample has no labels" in n and "no performance metric can alert" in n
               for n in report.notes)
    assert any("Estimated performance was not computed" in n for n in report.notes)
    bounded = build_report(unlabelled, steady_log, window="1d",
                           config=ReportConfig(bounds={"accuracy": Bound(lower=0.95)}))
    fired = [a for a in bounded.alerts if a.kind == "performance"]
    assert [a.subject for a in fired] == ["accuracy"]
    assert fired[0].message.endswith("beyond its fixed bound")
    assert any("only the fixed bounds decide alerts (accuracy >= 0.95)" in n for n in bounded.notes)
