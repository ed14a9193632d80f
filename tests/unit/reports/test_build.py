"""build_report on the credit data: no drift stays quiet; a shift is found in exactly the shifted features,
from the hour it began; every number is the calculators' own (and scikit-learn's, and numpy's)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import modelport
from modelport.errors import SchemaError
from modelport.monitoring.importance import ImportanceConfig, ImportanceShiftCalculator
from modelport.reports import MonitorReport, Reference, ReportConfig, build_report
from tests.prediction_logs import SHIFTED, START, credit_halves, prediction_log
from tests.unit.reports.conftest import SHIFT_HOUR

HOUR = pd.Timedelta("1h")


def test_rows_drawn_like_the_reference_fire_no_alert(steady_report: MonitorReport) -> None:
    report = steady_report
    assert report.alerts == ()
    assert report.summary.status == "ok"
    assert report.drifted == ()
    assert [w.span.start for w in report.windows] == [START + i * HOUR for i in range(6)]
    assert all(w.data_drift is not None for w in report.windows)
    assert not any(t.alert for t in report.outputs)
    assert not any(m.alert for m in report.metrics)
    assert report.summary.actions[0].startswith("Nothing needs doing")
    assert "No data drift in the 13 monitored features." in report.summary.lines
    # the textbook ECE of ~400 rows broke its bound in window 1; the debiased error, which may alert, does not
    calibration = next(m for m in report.metrics if m.metric == "calibration_error")
    assert calibration.alert_windows == ()
    assert not any("never alerts" in note for note in report.notes)
    for window in report.windows:
        assert window.performance is not None
        assert window.performance.metric("calibration_error").rows == window.span.labelled


def test_shifted_features_and_only_they_drift_from_the_hour_the_shift_began(
        shifted_report: MonitorReport) -> None:
    report = shifted_report
    shift_start = START + SHIFT_HOUR * HOUR
    assert set(report.drifted) == set(SHIFTED)
    for name in SHIFTED:
        trend = report.feature(name)
        assert trend.since == shift_start
        assert trend.first == shift_start
        assert trend.drifted_windows == (3, 4, 5)
        assert trend.overall_drifted
        for window in report.windows[SHIFT_HOUR:]:
            assert window.data_drift is not None
            assert window.data_drift.feature(name).drifted
    kinds = {(a.kind, a.subject) for a in report.alerts}
    assert {("data_drift", name) for name in SHIFTED} <= kinds
    assert ("prediction_drift", "prediction") in kinds
    assert {a.since for a in report.alerts if a.kind == "data_drift"} == {shift_start}
    assert report.summary.status == "alert"
    assert any(line.startswith("Data drift in 3 of 13 monitored features") for line in report.summary.lines)
    assert any("Check what feeds" in action for action in report.summary.actions)


def test_a_drift_in_the_latest_window_only_is_shown_but_alerts_only_without_persistence(
        reference: Reference, model: modelport.LoadedModel) -> None:
    _, _, x, y = credit_halves()
    log = prediction_log(model, x, y, hours=12, shift_from=11, change=lambda f: f.assign(Records="yes"))
    report = build_report(reference, log, window="1h")
    records = report.feature("Records")
    assert records.drifted_windows == (11,)
    assert records.since == START + 11 * HOUR
    assert not records.overall_drifted  # one hour in twelve: diluted below the distance threshold
    assert not records.alert
    assert report.drifted == ()
    assert any("single windows only" in line and "Records" in line for line in report.summary.lines)
    eager = build_report(reference, log, window="1h", config=ReportConfig(persistence=1))
    assert eager.drifted == ("Records",)


def test_realized_performance_equals_sklearn_on_the_labelled_rows(shifted_report: MonitorReport,
                                                                  shifted_log: pd.DataFrame) -> None:
    for window in shifted_report.windows:
        assert window.span.start is not None
        times = shifted_log["time"]
        rows = shifted_log[(times >= window.span.start) & (times < window.span.end)]
        rows = rows[rows["label"].notna()]
        if not len(rows):
            assert window.performance is None
            assert window.estimated is not None
            continue
        assert window.performance is not None
        assert window.span.labelled == len(rows)
        truth, predicted = rows["label"].to_numpy(), rows["prediction"].to_numpy()
        score = rows["proba.good"].to_numpy()
        expected = {
            "accuracy": skm.accuracy_score(truth, predicted),
            "precision": skm.precision_score(truth, predicted, pos_label="good"),
            "recall": skm.recall_score(truth, predicted, pos_label="good"),
            "f1": skm.f1_score(truth, predicted, pos_label="good"),
            "roc_auc": skm.roc_auc_score(truth == "good", score),
            "log_loss": skm.log_loss(truth, rows[["proba.bad", "proba.good"]].to_numpy(),
                                     labels=["bad", "good"]),
        }
        for name, value in expected.items():
            assert window.performance.metric(name).value == pytest.approx(value, abs=1e-12), name


def test_estimated_performance_stands_in_where_labels_have_not_arrived(shifted_report: MonitorReport) -> None:
    estimated = [m for m in shifted_report.metrics if m.estimated]
    assert {m.metric for m in estimated} == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    windows = shifted_report.windows
    accuracy = next(m for m in estimated if m.metric == "accuracy")
    assert accuracy.latest == windows[-1].estimated.metric("accuracy").value  # type: ignore[union-attr]
    assert all(w.estimated is not None and w.estimated.estimated for w in windows)
    assert [w.performance is None for w in windows] == [False] * (SHIFT_HOUR + 1) + [True] * 2


def test_operational_figures_equal_numpy_per_window_and_version(reference: Reference,
                                                                model: modelport.LoadedModel) -> None:
    _, _, x, y = credit_halves()
    first = prediction_log(model, x.iloc[:1200], y.iloc[:1200], hours=2, version="1",
                           statuses=[500, 500, 500, 422] * 10)
    second = prediction_log(model, x.iloc[1200:], y.iloc[1200:], hours=2, version="2", seed=1)
    log = pd.concat([first, second], ignore_index=True).sort_values("time", kind="stable")
    report = build_report(reference, log, window="1h")
    for window in report.windows:
        rows = log[(log["time"] >= window.span.start) & (log["time"] < window.span.end)]
        ops = window.operations
        assert ops.requests == len(rows)
        assert [ops.latency_p50, ops.latency_p95, ops.latency_p99] == \
            np.percentile(rows["latency_ms"], [50, 95, 99]).tolist()
        assert ops.throughput == len(rows) / 3600
        assert ops.status_classes == {"2xx": int((rows["status"] == 200).sum()),
                                      "4xx": int((rows["status"] == 422).sum()),
                                      "5xx": int((rows["status"] == 500).sum())}
        assert window.span.scored == int((rows["status"] == 200).sum())
        for version, figures in window.versions.items():
            mine = rows[rows["version"] == version]
            assert figures.latency_p99 == np.percentile(mine["latency_ms"], 99)
    whole = report.overall.versions
    assert set(whole) == {"1", "2"}
    assert whole["1"].server_error_rate == 30 / (1200 + 40)
    assert whole["2"].server_error_rate == 0.0
    errors = [a for a in report.alerts if a.kind == "errors"]
    assert [(a.subject, a.value, a.threshold) for a in errors] == [("1", 30 / 1240, 0.01)]


def test_count_windows_follow_time_order_and_take_their_span_from_the_records(
        reference: Reference, steady_log: pd.DataFrame) -> None:
    report = build_report(reference, steady_log, window=1000)
    assert [w.span.requests for w in report.windows] == [1000, 1000, len(steady_log) - 2000]
    assert [w.span.complete for w in report.windows] == [True, True, False]
    first = report.windows[0].span
    assert (first.start, first.end) == (steady_log["time"].iloc[0], steady_log["time"].iloc[999])
    assert report.window == "1000 predictions"
    assert report.alerts == ()


def test_a_range_without_predictions_reports_empty_windows(reference: Reference,
                                                          steady_log: pd.DataFrame) -> None:
    later = START + 30 * HOUR
    report = build_report(reference, steady_log, window="1h", since=later, until=later + 2 * HOUR)
    assert [w.span.requests for w in report.windows] == [0, 0]
    assert all(w.data_drift is None and w.performance is None for w in report.windows)
    assert report.alerts == ()
    assert report.overall.operations.requests == 0


def test_importance_shift_is_the_calculators_result_on_the_labelled_rows(
        reference: Reference, model: modelport.LoadedModel, steady_log: pd.DataFrame) -> None:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        return model.predict_frame(model.validate(frame)[0], proba=False).values

    config = ReportConfig(importance=ImportanceConfig(rows=300, repeats=2))
    report = build_report(reference, steady_log, window="1d", config=config, predict=predict)
    assert report.importance is not None
    inputs = steady_log[[f"input.{name}" for name in reference.features]]
    inputs.columns = reference.features
    expected = (ImportanceShiftCalculator(predict, ImportanceConfig(rows=300, repeats=2))
                .fit(reference.importances).calculate(inputs, steady_log["label"]))
    assert report.importance.to_dict() == expected.to_dict()
    assert report.importance.rows == 300
    assert not report.importance.alert


def test_without_a_predict_function_the_importance_is_left_out_with_a_note(
        steady_report: MonitorReport) -> None:
    assert steady_report.importance is None
    assert any("no model was given" in note for note in steady_report.notes)


def test_a_missing_required_column_is_named_and_a_missing_input_is_left_unmonitored(
        reference: Reference, steady_log: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="latency_ms"):
        build_report(reference, steady_log.drop(columns=["latency_ms"]))
    report = build_report(reference, steady_log.drop(columns=["input.Age"]), window="1d")
    assert "Age" not in [t.name for t in report.features]
    assert "Age" not in report.model.features
    assert any("Not in the prediction log" in note and "Age" in note for note in report.notes)
