"""Realized performance equals scikit-learn's metrics on the same rows; alerts follow the bounds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LinearRegression, LogisticRegression

from modelport.errors import SchemaError
from modelport.monitoring.performance import (
    Bound,
    PerformanceCalculator,
    PerformanceConfig,
    calibration,
    classification_metrics,
)
from tests.artifacts import credit_pipeline
from tests.data import credit, numeric_classification, numeric_regression

TOL = 1e-12


@pytest.fixture(scope="module")
def credit_rows() -> pd.DataFrame:
    """The credit pipeline's predictions on rows it was not trained on, with their labels."""
    model, _, _ = credit_pipeline(1500)
    x, y = credit()
    x, y = x.iloc[1500:].reset_index(drop=True), y.iloc[1500:].reset_index(drop=True)
    proba = model.predict_proba(x)
    frame = pd.DataFrame({"target": y, "prediction": model.predict(x)})
    for k, label in enumerate(model.classes_):
        frame[f"p_{label}"] = proba[:, k]
    return frame


def _credit_config(**changes: object) -> PerformanceConfig:
    base = {"target": "target", "prediction": "prediction", "scores": ("p_bad", "p_good"),
            "classes": ("bad", "good"), "positive": "bad"}
    return PerformanceConfig(**{**base, **changes})  # type: ignore[arg-type]


def test_binary_metrics_equal_sklearn(credit_rows: pd.DataFrame) -> None:
    y, pred = credit_rows["target"], credit_rows["prediction"]
    proba = credit_rows[["p_bad", "p_good"]].to_numpy()
    values, curve = classification_metrics(y, pred, proba, ["bad", "good"], "bad")
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)
    assert values["precision"] == pytest.approx(skm.precision_score(y, pred, pos_label="bad"), abs=TOL)
    assert values["recall"] == pytest.approx(skm.recall_score(y, pred, pos_label="bad"), abs=TOL)
    assert values["f1"] == pytest.approx(skm.f1_score(y, pred, pos_label="bad"), abs=TOL)
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "bad", proba[:, 0]), abs=TOL)
    assert values["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=["bad", "good"]), abs=TOL)
    observed, predicted = calibration_curve(y == "bad", proba[:, 0], n_bins=10)
    assert curve is not None
    np.testing.assert_allclose(curve.observed, observed, atol=TOL)
    np.testing.assert_allclose(curve.predicted, predicted, atol=TOL)
    counts = np.histogram(proba[:, 0], bins=np.linspace(0, 1, 11))[0]
    assert list(curve.counts) == [int(c) for c in counts if c]
    ece = sum(n * abs(o - p) for n, o, p in zip(curve.counts, observed, predicted, strict=True)) / len(y)
    assert curve.error == pytest.approx(ece, abs=TOL)
    squared = sum(n * ((o - p) ** 2 - o * (1 - o) / (n - 1))
                  for n, o, p in zip(curve.counts, observed, predicted, strict=True) if n > 1) / len(y)
    assert values["calibration_error"] == pytest.approx(np.sqrt(max(squared, 0.0)), abs=TOL)


def test_class_order_of_the_scores_does_not_matter(credit_rows: pd.DataFrame) -> None:
    y, pred = credit_rows["target"], credit_rows["prediction"]
    sorted_order, _ = classification_metrics(y, pred, credit_rows[["p_bad", "p_good"]].to_numpy(),
                                             ["bad", "good"], "bad")
    reversed_order, _ = classification_metrics(y, pred, credit_rows[["p_good", "p_bad"]].to_numpy(),
                                               ["good", "bad"], "bad")
    assert reversed_order == pytest.approx(sorted_order, abs=TOL)


def test_multiclass_metrics_equal_sklearn() -> None:
    x, y = numeric_classification(900, classes=3, seed=2)
    noisy = y.where(np.random.default_rng(0).random(len(y)) > 0.2, (y + 1) % 3)
    model = LogisticRegression(max_iter=500).fit(x.iloc[:500], noisy.iloc[:500])
    xs, ys = x.iloc[500:], noisy.iloc[500:].to_numpy()
    pred, proba = model.predict(xs), model.predict_proba(xs)
    values, curve = classification_metrics(ys, pred, proba, [0, 1, 2])
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(ys, pred), abs=TOL)
    for name, function in (("precision", skm.precision_score), ("recall", skm.recall_score),
                           ("f1", skm.f1_score)):
        assert values[name] == pytest.approx(function(ys, pred, average="macro"), abs=TOL)
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(ys, proba, multi_class="ovr"), abs=TOL)
    assert values["log_loss"] == pytest.approx(skm.log_loss(ys, proba), abs=TOL)
    observed, _ = calibration_curve(pred == ys, proba.max(axis=1), n_bins=10)
    assert curve is not None
    np.testing.assert_allclose(curve.observed, observed, atol=TOL)


def test_regression_metrics_equal_sklearn() -> None:
    x, y = numeric_regression(600, seed=4)
    model = LinearRegression().fit(x.iloc[:300], y.iloc[:300])
    frame = pd.DataFrame({"target": y.iloc[300:], "prediction": model.predict(x.iloc[300:])})
    calculator = PerformanceCalculator(PerformanceConfig(task="regression")).fit(frame.iloc[:150])
    result = calculator.calculate(frame.iloc[150:])
    truth, pred = frame["target"].iloc[150:], frame["prediction"].iloc[150:]
    assert result.metric("mae").value == pytest.approx(skm.mean_absolute_error(truth, pred), abs=TOL)
    assert result.metric("rmse").value == pytest.approx(skm.root_mean_squared_error(truth, pred), abs=TOL)
    assert result.metric("r2").value == pytest.approx(skm.r2_score(truth, pred), abs=TOL)
    assert result.alerts == ()
    worse = frame.iloc[150:].assign(prediction=lambda f: f["prediction"] + 2.0)
    assert set(calculator.calculate(worse).alerts) == {"mae", "rmse", "r2"}


def test_a_window_like_the_reference_does_not_alert_and_a_degraded_one_does(
        credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config()).fit(credit_rows.iloc[:1500])
    window = credit_rows.iloc[1500:]
    same = calculator.calculate(window)
    assert same.alerts == ()
    assert not same.estimated
    direct, _ = classification_metrics(window["target"], window["prediction"],
                                       window[["p_bad", "p_good"]].to_numpy(), ["bad", "good"], "bad")
    assert {m.metric: m.value for m in same.metrics} == pytest.approx(direct, abs=TOL)
    degraded = credit_rows.iloc[1500:].copy()
    flip = np.random.default_rng(0).random(len(degraded)) < 0.3
    degraded.loc[flip, "target"] = np.where(degraded.loc[flip, "target"] == "bad", "good", "bad")
    alerts = set(calculator.calculate(degraded).alerts)
    assert {"accuracy", "roc_auc", "log_loss"} <= alerts


def test_default_bounds_follow_the_window_size(credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config(bootstrap=20)).fit(credit_rows.iloc[:1500])
    reference, spread = calculator.reference_["accuracy"], calculator.spread_["accuracy"]
    assert reference is not None
    assert spread is not None
    assert spread > 0
    for rows in (100, 1000):
        result = calculator.calculate(credit_rows.iloc[1500:1500 + rows]).metric("accuracy")
        assert result.reference == reference
        assert result.lower == pytest.approx(reference - 3 * spread * np.sqrt(1 + 1500 / rows))
        assert result.upper is None
    loss = calculator.calculate(credit_rows.iloc[1500:1600]).metric("log_loss")
    assert loss.lower is None
    assert loss.upper is not None


def test_fixed_and_relative_bounds_both_apply_and_the_stricter_decides(credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config(bounds={"accuracy": Bound(lower=0.99),
                                                              "roc_auc": Bound(lower=0.1)}))
    result = calculator.fit(credit_rows.iloc[:1000]).calculate(credit_rows.iloc[1000:])
    accuracy = result.metric("accuracy")
    assert (accuracy.lower, accuracy.upper, accuracy.alert) == (0.99, None, True)
    auc = result.metric("roc_auc")
    assert auc.lower is not None
    assert auc.lower > 0.1  # the reference's bound is the stricter


def test_unlabelled_rows_are_left_out_and_undefined_metrics_are_none(credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config(bootstrap=5)).fit(credit_rows.iloc[:1000])
    window = credit_rows.iloc[1000:1400].copy()
    window.loc[window.index[:100], "target"] = None
    result = calculator.calculate(window)
    assert result.rows == 300
    labelled = window.iloc[100:]
    assert result.metric("accuracy").value == pytest.approx(
        skm.accuracy_score(labelled["target"], labelled["prediction"]), abs=TOL)
    only_good = credit_rows[credit_rows["target"] == "good"].iloc[:50]
    one_class = calculator.calculate(only_good)
    assert one_class.metric("roc_auc").value is None
    assert not one_class.metric("roc_auc").alert
    json.dumps(one_class.to_dict(), allow_nan=False)
    assert calculator.calculate(credit_rows.iloc[:0]).metrics == ()


def test_calibration_of_a_perfect_forecaster_is_close_to_zero() -> None:
    rng = np.random.default_rng(8)
    probability = rng.random(50_000)
    curve = calibration(rng.random(50_000) < probability, probability)
    assert curve.error < 0.01
    assert sum(curve.counts) == 50_000


def test_a_label_outside_the_classes_is_a_schema_error(credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config(bootstrap=2)).fit(credit_rows.iloc[:200])
    with pytest.raises(SchemaError, match=r"labels \['unknown'\] are not among the classes"):
        calculator.calculate(credit_rows.iloc[:10].assign(target="unknown"))


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="task must be"):
        PerformanceCalculator(PerformanceConfig(task="ranking"))
    with pytest.raises(ValueError, match="one score column per class"):
        PerformanceCalculator(PerformanceConfig(scores=("p",), classes=("a", "b")))


def test_rows_without_probabilities_skip_only_the_metrics_that_need_them(credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config(bootstrap=5)).fit(credit_rows.iloc[:1000])
    window = credit_rows.iloc[1000:1400]
    for missing in (np.nan, None):
        unscored = window.assign(p_bad=missing, p_good=missing)
        result = calculator.calculate(unscored)
        assert {m.metric for m in result.metrics} == {"accuracy", "precision", "recall", "f1"}
        assert result.metric("accuracy").value == pytest.approx(
            skm.accuracy_score(window["target"], window["prediction"]), abs=TOL)
        assert set(result.skipped) == {"roc_auc", "log_loss", "calibration_error"}
        assert all("no probabilities were logged" in why for why in result.skipped.values())
        assert result.calibration is None
        json.dumps(result.to_dict(), allow_nan=False)
    partly = window.copy()
    partly.loc[partly.index[:150], ["p_bad", "p_good"]] = np.nan
    result = calculator.calculate(partly)
    scored = window.iloc[150:]
    assert result.metric("roc_auc").value == pytest.approx(
        skm.roc_auc_score(scored["target"] == "bad", scored["p_bad"]), abs=TOL)
    assert (result.metric("roc_auc").rows, result.metric("accuracy").rows) == (250, 400)
    assert result.skipped == {}


def _calibrated(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """A binary model whose probabilities are the true ones (``shift`` moves the truth away from them)."""
    rng = np.random.default_rng(seed)
    probability = rng.beta(2.0, 2.0, rows)
    hit = rng.random(rows) < np.clip(probability + shift, 0.0, 1.0)
    return pd.DataFrame({"target": np.where(hit, "yes", "no"),
                         "prediction": np.where(probability >= 0.5, "yes", "no"),
                         "p_no": 1 - probability, "p_yes": probability})


CALIBRATED = PerformanceConfig(scores=("p_no", "p_yes"), classes=("no", "yes"), bootstrap=20)


def test_a_perfectly_calibrated_model_on_a_small_window_raises_no_calibration_alert() -> None:
    calculator = PerformanceCalculator(CALIBRATED).fit(_calibrated(2000, seed=1))
    for seed in range(2, 22):
        result = calculator.calculate(_calibrated(150, seed=seed))
        metric = result.metric("calibration_error")
        assert metric.rows == 150
        assert not metric.alert, seed
    # the textbook ECE of those windows sits far above a calibrated model's, which is why it is not used
    assert result.calibration is not None
    assert result.calibration.error > 2 * (calculator.reference_["calibration_error"] or 0.0) + 0.03
    # and the same bound still catches a model whose probabilities are 0.15 too low
    assert calculator.calculate(_calibrated(1500, seed=40, shift=0.15)).metric("calibration_error").alert


def test_calibration_error_needs_a_minimum_of_rows() -> None:
    calculator = PerformanceCalculator(CALIBRATED).fit(_calibrated(500, seed=1))
    small = calculator.calculate(_calibrated(99, seed=2))
    assert "calibration_error" not in {m.metric for m in small.metrics}
    assert small.skipped["calibration_error"] == ("99 rows with probabilities, fewer than the 100 a "
                                                  "calibration error needs")
    assert small.metric("roc_auc").rows == 99
    assert calculator.calculate(_calibrated(100, seed=2)).metric("calibration_error").rows == 100


def test_a_tolerance_alerts_only_when_worse_than_the_reference_by_more_than_it(
        credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config(bootstrap=10, tolerances={"accuracy": 0.2}))
    calculator.fit(credit_rows.iloc[:1500])
    reference = calculator.reference_["accuracy"]
    assert reference is not None
    window = credit_rows.iloc[1500:]
    accuracy = calculator.calculate(window).metric("accuracy")
    assert accuracy.lower == pytest.approx(reference - 0.2)  # wider than the statistical margin
    degraded = window.copy()
    flip = np.random.default_rng(0).random(len(degraded)) < 0.3
    degraded.loc[flip, "target"] = np.where(degraded.loc[flip, "target"] == "bad", "good", "bad")
    worse = calculator.calculate(degraded)
    assert "roc_auc" in worse.alerts  # no tolerance: the statistical bound
    assert worse.metric("accuracy").value > reference - 0.2  # type: ignore[operator]
    assert "accuracy" not in worse.alerts


def test_without_a_labelled_reference_only_fixed_bounds_decide(credit_rows: pd.DataFrame) -> None:
    calculator = PerformanceCalculator(_credit_config(bounds={"accuracy": Bound(lower=0.99)}))
    calculator.fit(credit_rows.iloc[:1000].assign(target=None))
    assert not calculator.has_reference
    result = calculator.calculate(credit_rows.iloc[1000:])
    accuracy, auc = result.metric("accuracy"), result.metric("roc_auc")
    assert (accuracy.reference, accuracy.lower, accuracy.alert) == (None, 0.99, True)
    assert (auc.reference, auc.lower, auc.upper, auc.alert) == (None, None, None, False)
