"""The conformance suite every registered drift test passes, numerical and categorical."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from modelport.monitoring import stats

rng = np.random.default_rng(5)
REFERENCE = rng.normal(size=2000)
SAME = rng.normal(size=2000)
SHIFTED = rng.normal(1.0, 1.0, size=2000)
REF_COUNTS = np.array([500, 300, 200], dtype=np.int64)


def test_the_registries_hold_the_documented_tests() -> None:
    assert stats.NUMERICAL_TESTS.names() == ["ks", "psi", "wasserstein"]
    assert stats.CATEGORICAL_TESTS.names() == ["chi_square", "jensen_shannon", "psi"]


def _check_result(result: stats.TestResult, test_name: str, has_p_value: bool, threshold: float) -> None:
    assert result.method == test_name
    assert result.threshold == threshold
    assert (result.p_value is not None) == has_p_value
    if result.p_value is not None:
        assert 0.0 <= result.p_value <= 1.0
    assert math.isfinite(result.statistic)
    assert result.statistic >= 0
    assert math.isfinite(result.effect_size)
    assert result.effect_size >= 0
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize("name", stats.NUMERICAL_TESTS.names())
def test_numerical_test_contract(name: str) -> None:
    test = stats.NUMERICAL_TESTS.get(name)
    reference = stats.NumericReference.fit(REFERENCE)
    threshold = test.default_threshold
    same = test(reference, stats.numeric_sample(SAME), threshold)
    moved = test(reference, stats.numeric_sample(SHIFTED), threshold)
    identical = test(reference, stats.numeric_sample(REFERENCE), threshold)
    for result in (same, moved, identical):
        _check_result(result, name, test.has_p_value, threshold)
    assert not same.drifted
    assert not identical.drifted
    assert identical.effect_size == 0.0
    assert moved.drifted
    assert moved.effect_size > same.effect_size
    if test.has_p_value:
        assert moved.statistic > same.statistic


@pytest.mark.parametrize("name", stats.CATEGORICAL_TESTS.names())
def test_categorical_test_contract(name: str) -> None:
    test = stats.CATEGORICAL_TESTS.get(name)
    threshold = test.default_threshold
    same = test(REF_COUNTS, np.array([490, 310, 200]), threshold)
    moved = test(REF_COUNTS, np.array([200, 300, 500]), threshold)
    identical = test(REF_COUNTS, REF_COUNTS.copy(), threshold)
    unseen = test(np.append(REF_COUNTS, 0), np.array([400, 300, 200, 100]), threshold)
    for result in (same, moved, identical, unseen):
        _check_result(result, name, test.has_p_value, threshold)
    assert not same.drifted
    assert not identical.drifted
    assert identical.effect_size == 0.0
    assert moved.drifted
    assert unseen.drifted
    assert moved.effect_size > same.effect_size


@pytest.mark.parametrize("name", stats.NUMERICAL_TESTS.names())
def test_numerical_threshold_decides(name: str) -> None:
    test = stats.NUMERICAL_TESTS.get(name)
    reference = stats.NumericReference.fit(REFERENCE)
    result = test(reference, stats.numeric_sample(SAME), test.default_threshold)
    value = result.p_value if result.p_value is not None else result.statistic
    strict = value * 1.01 if test.has_p_value else value * 0.99
    assert test(reference, stats.numeric_sample(SAME), strict).drifted
