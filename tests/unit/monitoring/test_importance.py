"""Importance shift: window permutation importances as scikit-learn computes them, ranked against the
reference's; a feature whose relation to the label broke is among those that moved most."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.inspection import permutation_importance
from sklearn.metrics import accuracy_score

import modelport
from modelport.core.importance import choose_rows
from modelport.inference import reference as artifact_reference
from modelport.monitoring.importance import (
    ImportanceConfig,
    ImportanceShiftCalculator,
    compare,
    permutation_importances,
)
from tests.artifacts import credit_artifact
from tests.data import credit


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> modelport.Artifact:
    return credit_artifact(tmp_path_factory.mktemp("importance") / "credit", rows=1500)


@pytest.fixture(scope="module")
def model(packed: modelport.Artifact) -> modelport.LoadedModel:
    return modelport.load(packed.path)


def _predict(model: modelport.LoadedModel) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda frame: model.predict_frame(frame, proba=False).values


def _window() -> tuple[pd.DataFrame, pd.Series]:
    x, y = credit()
    return x.iloc[1500:3500].reset_index(drop=True), y.iloc[1500:3500].reset_index(drop=True)


def test_window_importances_equal_sklearn_permutation_importance(model: modelport.LoadedModel) -> None:
    x, y = _window()
    config = ImportanceConfig(rows=400, repeats=2)
    ours = permutation_importances(_predict(model), x, y, config)
    rows = choose_rows(len(x), 400, seed=1)

    class Estimator:
        def fit(self, *_: object) -> Estimator:
            return self

        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            return model.predict_frame(frame.reset_index(drop=True), proba=False).values

    def score(estimator: Estimator, frame: pd.DataFrame, truth: pd.Series) -> float:
        return float(accuracy_score(truth, estimator.predict(frame)))

    expected = permutation_importance(Estimator(), x.iloc[rows].reset_index(drop=True),
                                      y.iloc[rows].reset_index(drop=True), scoring=score, n_repeats=2,
                                      random_state=0)
    assert list(ours) == list(x.columns)
    np.testing.assert_allclose(list(ours.values()), expected.importances_mean, atol=1e-12)


def test_the_same_rows_reproduce_the_artifacts_own_importances(packed: modelport.Artifact,
                                                               model: modelport.LoadedModel) -> None:
    stored = artifact_reference.read_importances(packed.path)
    x, y = credit(1500)
    calculator = ImportanceShiftCalculator(_predict(model)).fit(stored)
    result = calculator.calculate(x, y)
    assert result.source == "permutation"
    for feature in result.features:
        assert feature.current == pytest.approx(feature.reference, abs=1e-12)
    assert result.correlation == pytest.approx(1.0)
    assert result.moved == ()
    assert not result.alert


def test_a_feature_whose_relation_broke_moved_most(packed: modelport.Artifact,
                                                   model: modelport.LoadedModel) -> None:
    stored = artifact_reference.read_importances(packed.path)["permutation"]
    top = max(stored, key=lambda name: stored[name])
    x, y = _window()
    broken = x.assign(**{top: x[top].sample(frac=1.0, random_state=0).to_numpy()})
    calculator = ImportanceShiftCalculator(_predict(model), ImportanceConfig(top=3)).fit(stored)
    result = calculator.calculate(broken, y)
    moved = result.feature(top)
    assert moved.reference_rank == 1
    assert moved.current_rank > 3
    assert moved.current == pytest.approx(0.0, abs=0.03)
    assert result.moved[0] == top
    intact = calculator.calculate(x, y)
    assert intact.correlation is not None
    assert result.correlation is not None
    assert intact.correlation > result.correlation
    assert intact.feature(top).current_rank <= 3
    json.dumps(result.to_dict(), allow_nan=False)


def test_unlabelled_rows_are_left_out(model: modelport.LoadedModel) -> None:
    x, y = _window()
    with_gaps = y.astype(object).copy()
    with_gaps.iloc[:500] = None
    calculator = ImportanceShiftCalculator(_predict(model), ImportanceConfig(rows=300, repeats=1))
    calculator.fit(dict.fromkeys(x.columns, 1.0))
    gappy = calculator.calculate(x, with_gaps)
    clean = calculator.calculate(x.iloc[500:], y.iloc[500:])
    assert [f.current for f in gappy.features] == [f.current for f in clean.features]


def test_compare_ranks_shares_and_correlation() -> None:
    reference = {"a": 0.30, "b": 0.20, "c": 0.10, "d": 0.05, "e": 0.0}
    current = {"a": 0.05, "b": 0.25, "c": 0.12, "d": 0.06, "e": -0.01, "new": 0.5}
    result = compare(reference, current, top=2, threshold=0.5, rows=100, source="permutation")
    assert [f.feature for f in result.features] == ["a", "b", "c", "d", "e"]
    a = result.feature("a")
    assert (a.reference_rank, a.current_rank, a.rank_change) == (1, 4, -3)
    assert a.reference_share == pytest.approx(0.30 / 0.65)
    assert result.feature("e").current_share == 0.0
    expected = stats.spearmanr([0.30, 0.20, 0.10, 0.05, 0.0], [0.05, 0.25, 0.12, 0.06, -0.01])
    assert result.correlation == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.moved == ("a", "b")
    assert result.alert
    assert not compare(reference, reference, top=2, threshold=0.5, rows=1, source="permutation").alert
    swapped = compare(reference, {k: -v for k, v in reference.items()}, top=2, threshold=0.5, rows=1,
                      source="model")
    assert swapped.correlation == pytest.approx(-1.0)
    assert swapped.alert


def test_fit_reads_the_named_source_or_refuses() -> None:
    calculator = ImportanceShiftCalculator(lambda frame: np.zeros(len(frame)))
    calculator.fit({"model": {"x": 2.0}, "permutation": {"x": 0.1}}, source="model")
    assert calculator.reference_ == {"x": 2.0}
    with pytest.raises(ValueError, match="no 'permutation' importances"):
        calculator.fit({"model": {"x": 2.0}})


def test_regression_uses_r2() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"strong": rng.normal(size=600), "weak": rng.normal(size=600)})
    y = 3 * x["strong"] + 0.3 * x["weak"] + rng.normal(scale=0.1, size=600)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return (3 * frame["strong"] + 0.3 * frame["weak"]).to_numpy()

    config = ImportanceConfig(task="regression", repeats=2)
    importances = permutation_importances(predict, x, y, config)
    assert importances["strong"] > 1.0 > importances["weak"] > 0.0
