"""Estimated performance tracks the realized one under covariate shift, and says it is an estimate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from modelport.monitoring.estimated import EstimatedPerformanceCalculator, expected_roc_auc
from modelport.monitoring.performance import PerformanceCalculator, PerformanceConfig

WEIGHTS = np.array([2.0, 1.0, -2.0])


def _population(rows: int, seed: int, spread: float = 1.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Inputs (x1's spread sets how many rows sit near the boundary) and labels drawn from a known
    logistic model, so the relation between inputs and labels never changes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)) * np.array([spread, 1.0, 0.5])
    y = (rng.random(rows) < 1 / (1 + np.exp(-x @ WEIGHTS))).astype(int)
    return pd.DataFrame(x, columns=["x1", "x2", "x3"]), y


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    x, y = _population(4000, seed=0)
    return LogisticRegression().fit(x, y)


def _scored(model: LogisticRegression, x: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    proba = model.predict_proba(x)
    return pd.DataFrame({"target": y, "prediction": model.predict(x), "p0": proba[:, 0], "p1": proba[:, 1]})


CONFIG = PerformanceConfig(scores=("p0", "p1"), classes=(0, 1), positive=1)


@pytest.fixture(scope="module")
def estimator(model: LogisticRegression) -> EstimatedPerformanceCalculator:
    return EstimatedPerformanceCalculator(CONFIG).fit(_scored(model, *_population(5000, seed=1)))


@pytest.mark.parametrize("spread", [1.0, 0.3, 2.5])
def test_estimates_track_realized_performance_under_covariate_shift(
        model: LogisticRegression, estimator: EstimatedPerformanceCalculator, spread: float) -> None:
    window = _scored(model, *_population(6000, seed=2, spread=spread))
    estimated = estimator.calculate(window.drop(columns=["target"]).assign(target=np.nan))
    realized = PerformanceCalculator(CONFIG).measure(window).values
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        value, truth = estimated.metric(name).value, realized[name]
        assert value is not None
        assert truth is not None
        assert value == pytest.approx(truth, abs=0.025), name


def test_a_shift_towards_the_boundary_alerts_on_the_estimate(
        model: LogisticRegression, estimator: EstimatedPerformanceCalculator) -> None:
    near = _scored(model, *_population(3000, seed=3, spread=0.2)).drop(columns=["target"])
    same = _scored(model, *_population(3000, seed=4)).drop(columns=["target"])
    hard = estimator.calculate(near)
    assert hard.estimated
    assert "accuracy" in hard.alerts
    assert estimator.calculate(same).alerts == ()
    data = json.loads(json.dumps(hard.to_dict(), allow_nan=False))
    assert (data["kind"], data["estimated"]) == ("estimated", True)


def test_labels_in_the_window_are_not_read(model: LogisticRegression,
                                           estimator: EstimatedPerformanceCalculator) -> None:
    window = _scored(model, *_population(500, seed=5))
    flipped = window.assign(target=1 - window["target"])
    assert estimator.calculate(window) == estimator.calculate(flipped)


def test_expected_roc_auc_is_the_pairwise_expectation_ratio() -> None:
    rng = np.random.default_rng(9)
    score = np.round(rng.random(40), 1)
    p = rng.random(40)
    wins = sum(p[i] * (1 - p[j]) * ((score[i] > score[j]) + 0.5 * (score[i] == score[j]))
               for i in range(40) for j in range(40))
    assert expected_roc_auc(score, p) == pytest.approx(wins / (p.sum() * (1 - p).sum()), abs=1e-12)
    assert expected_roc_auc(score, np.ones(40)) is None


def test_certain_probabilities_estimate_the_realized_metrics_exactly() -> None:
    truth = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    predicted = np.array([0, 1, 0, 0, 1, 1, 0, 1])
    frame = pd.DataFrame({"target": truth, "prediction": predicted,
                          "p0": 1.0 - truth, "p1": truth.astype(float)})
    estimator = EstimatedPerformanceCalculator(PerformanceConfig(scores=("p0", "p1"), classes=(0, 1),
                                                                 bootstrap=3)).fit(frame)
    values = estimator.estimate(frame)
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(truth, predicted))
    assert values["precision"] == pytest.approx(skm.precision_score(truth, predicted))
    assert values["recall"] == pytest.approx(skm.recall_score(truth, predicted))
    assert values["f1"] == pytest.approx(skm.f1_score(truth, predicted))


def test_multiclass_estimates_track_realized() -> None:
    rng = np.random.default_rng(10)

    def population(rows: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(shift, 1.0, size=(rows, 2))
        logits = np.column_stack([x[:, 0], x[:, 1], -x[:, 0] - x[:, 1]]) * 1.5
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y = np.array([rng.choice(3, p=row) for row in p])
        return x, y

    model = LogisticRegression(max_iter=500).fit(*population(3000, 0.0))

    def scored(x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
        proba = model.predict_proba(x)
        return pd.DataFrame({"target": y, "prediction": model.predict(x),
                             **{f"p{k}": proba[:, k] for k in range(3)}})

    config = PerformanceConfig(scores=("p0", "p1", "p2"), classes=(0, 1, 2), bootstrap=5)
    estimator = EstimatedPerformanceCalculator(config).fit(scored(*population(4000, 0.0)))
    window = scored(*population(4000, 0.7))
    estimated = estimator.estimate(window)
    realized = PerformanceCalculator(config).measure(window).values
    for name in ("accuracy", "f1", "roc_auc"):
        assert estimated[name] == pytest.approx(realized[name], abs=0.03), name


def test_only_classifiers_with_scores_can_be_estimated() -> None:
    with pytest.raises(ValueError, match="only for classifiers with score columns"):
        EstimatedPerformanceCalculator(PerformanceConfig(task="regression"))
    with pytest.raises(ValueError, match="only for classifiers with score columns"):
        EstimatedPerformanceCalculator(PerformanceConfig())
