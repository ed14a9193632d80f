"""The p99 gate fails a canary on evidence, not on the noise of a few hundred requests' slowest one."""

from __future__ import annotations

import numpy as np
from scipy import stats

from modelport.promotion.gates import Outcome, judge, quantile_bounds
from modelport.promotion.window import WindowStats
from modelport.rollout.gates import Gates

GATES = Gates(min_requests=100, max_error_rate=0.5, max_p99_ratio=1.2)


def _window(latencies: np.ndarray) -> WindowStats:
    ordered = np.sort(latencies)
    return WindowStats(len(ordered), 0, float(np.percentile(ordered, 99)), latencies=tuple(ordered.tolist()))


def _p99(primary: np.ndarray, canary: np.ndarray) -> Outcome:
    [result] = [r for r in judge(GATES, _window(primary), _window(canary)) if r.gate == "p99_ratio"]
    return result.outcome


def test_the_bounds_cover_the_true_quantile_as_often_as_promised() -> None:
    rng = np.random.default_rng(7)
    truth = stats.expon.ppf(0.99)
    trials = 2_000
    low_ok = high_ok = 0
    for _ in range(trials):
        low, high = quantile_bounds(np.sort(rng.exponential(size=300)), 0.99, 0.95)
        low_ok += low <= truth
        high_ok += high >= truth
    # each bound holds in at least 95 % of samples; allow 3 binomial standard errors below that
    floor = trials * 0.95 - 3 * np.sqrt(trials * 0.95 * 0.05)
    assert low_ok >= floor
    assert high_ok >= floor


def test_same_latencies_never_fail_even_when_one_window_measures_slower() -> None:
    rng = np.random.default_rng(3)
    outcomes = [_p99(rng.lognormal(1.0, 0.6, 200), rng.lognormal(1.0, 0.6, 200)) for _ in range(300)]
    assert Outcome.FAIL not in outcomes
    assert Outcome.INCONCLUSIVE in outcomes  # the noisy windows wait instead of failing
    assert outcomes.count(Outcome.PASS) > len(outcomes) // 2


def test_a_canary_three_times_slower_fails_and_says_by_how_much_at_least() -> None:
    rng = np.random.default_rng(4)
    primary, canary = rng.lognormal(1.0, 0.3, 1_000), 3 * rng.lognormal(1.0, 0.3, 1_000)
    [result] = [r for r in judge(GATES, _window(primary), _window(canary)) if r.gate == "p99_ratio"]
    assert result.outcome is Outcome.FAIL
    assert "with 95% confidence" in result.detail
