"""A/B statistics against scipy and hand formulas on fixed data, and a verdict that never comes early."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from modelport.promotion.ab import analyze, arm_outcomes, required_per_arm

TOL = 1e-9


def conversions(n: int, hits: int) -> np.ndarray:
    return np.r_[np.ones(hits), np.zeros(n - hits)]


def test_conversions_match_the_hand_z_test_and_scipy_chi_square() -> None:
    a, b = conversions(4_000, 400), conversions(4_200, 483)
    result = analyze({"a": a, "b": b}, min_effect=0.10)
    assert result.kind == "conversion"
    comparison = result.comparisons[0]
    p1, p2 = 400 / 4_000, 483 / 4_200
    pooled = (400 + 483) / 8_200
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / 4_000 + 1 / 4_200))
    assert comparison.test == "two_proportion_z"
    assert comparison.statistic == pytest.approx(z, abs=TOL)
    assert comparison.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=TOL)
    chi2, p_chi2, _, _ = stats.chi2_contingency([[400, 3_600], [483, 4_200 - 483]], correction=False)
    assert comparison.statistic**2 == pytest.approx(chi2, abs=1e-7)
    assert comparison.p_value == pytest.approx(p_chi2, abs=TOL)
    half = stats.norm.ppf(0.975) * math.sqrt(p1 * (1 - p1) / 4_000 + p2 * (1 - p2) / 4_200)
    assert (comparison.ci_low, comparison.ci_high) == (pytest.approx(p2 - p1 - half, abs=TOL),
                                                        pytest.approx(p2 - p1 + half, abs=TOL))
    assert comparison.lift == pytest.approx((p2 - p1) / p1, abs=TOL)
    z975 = stats.norm.ppf(0.975)  # Wilson score interval, written out
    centre = (p1 + z975**2 / 8_000) / (1 + z975**2 / 4_000)
    spread = z975 * math.sqrt(p1 * (1 - p1) / 4_000 + z975**2 / (4 * 4_000**2)) / (1 + z975**2 / 4_000)
    arm_a = result.arms[0]
    assert (arm_a.n, arm_a.mean) == (4_000, pytest.approx(p1, abs=TOL))
    assert arm_a.ci_low == pytest.approx(centre - spread, abs=TOL)
    assert arm_a.ci_high == pytest.approx(centre + spread, abs=TOL)


def test_numeric_outcomes_match_scipy_welch() -> None:
    rng = np.random.default_rng(42)
    a, b = rng.gamma(2.0, 10.0, size=700), rng.gamma(2.2, 10.0, size=900)
    result = analyze({"control": a, "new": b}, min_effect=0.05)
    assert result.kind == "numeric"
    comparison = result.comparisons[0]
    reference = stats.ttest_ind(b, a, equal_var=False)
    assert comparison.test == "welch_t"
    assert comparison.statistic == pytest.approx(reference.statistic, abs=TOL)
    assert comparison.p_value == pytest.approx(reference.pvalue, abs=TOL)
    interval = reference.confidence_interval(0.95)
    assert comparison.ci_low == pytest.approx(interval.low, abs=TOL)
    assert comparison.ci_high == pytest.approx(interval.high, abs=TOL)
    low, high = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    assert (result.arms[0].ci_low, result.arms[0].ci_high) == (pytest.approx(low, abs=TOL),
                                                                pytest.approx(high, abs=TOL))


def test_sample_size_formulas() -> None:
    za, zb = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    p1, p2 = 0.10, 0.11
    expected = ((za * math.sqrt(2 * 0.105 * 0.895) + zb * math.sqrt(p1 * 0.9 + p2 * 0.89)) / 0.01) ** 2
    assert required_per_arm("conversion", 0.10, 0.0, alpha=0.05, power=0.8, min_effect=0.10) == \
        math.ceil(expected)
    assert required_per_arm("numeric", 50.0, 10.0, alpha=0.05, power=0.8, min_effect=2.0, relative=False) \
        == math.ceil(2 * (za + zb) ** 2 * 100 / 4)
    assert required_per_arm("conversion", 0.0, 0.0, alpha=0.05, power=0.8, min_effect=0.1) is None
    assert required_per_arm("numeric", 5.0, 0.0, alpha=0.05, power=0.8, min_effect=0.1) is None


def test_a_significant_peek_before_the_planned_sample_names_no_winner() -> None:
    early = analyze({"a": conversions(1_000, 100), "b": conversions(1_000, 150)}, min_effect=0.10)
    assert early.comparisons[0].p_value < 0.01  # significant at this peek ...
    assert not early.complete
    assert early.winner is None  # ... and still no winner
    assert early.required_per_arm is not None
    assert early.still_needed == early.required_per_arm - 1_000
    assert early.conclusion.startswith("Too early to call: a has 1000 of the ")
    assert "Do not stop the test on this." in early.conclusion


def test_at_the_planned_sample_the_verdict_is_given() -> None:
    plan = 5_000
    won = analyze({"a": conversions(plan, 500), "b": conversions(plan, 600)}, planned_per_arm=plan)
    assert (won.complete, won.winner) == (True, "b")
    assert won.conclusion.startswith("b beats a: b 12.00% vs a 10.00% (lift +20.0%")
    lost = analyze({"a": conversions(plan, 600), "b": conversions(plan, 500)}, planned_per_arm=plan)
    assert lost.winner == "a"
    assert lost.conclusion.startswith("a beats every other arm")
    flat = analyze({"a": conversions(plan, 500), "b": conversions(plan, 510)}, planned_per_arm=plan)
    assert flat.winner is None
    assert flat.conclusion.startswith("No significant difference at the planned sample size")


def test_more_arms_share_alpha_bonferroni() -> None:
    plan = 5_000
    result = analyze({"a": conversions(plan, 500), "b": conversions(plan, 566), "c": conversions(plan, 500)},
                     planned_per_arm=plan)
    p = result.comparisons[0].p_value
    assert 0.025 < p < 0.05  # significant alone, not after splitting alpha over two comparisons
    assert result.winner is None


def test_a_sample_ratio_mismatch_is_flagged() -> None:
    result = analyze({"a": conversions(5_000, 500), "b": conversions(4_500, 450)}, split=[50, 50],
                     planned_per_arm=100)
    assert result.sample_ratio_p is not None
    assert result.sample_ratio_p == pytest.approx(stats.chisquare([5_000, 4_500]).pvalue, abs=TOL)
    assert "sample ratio mismatch" in result.conclusion
    fine = analyze({"a": conversions(5_000, 500), "b": conversions(5_020, 450)}, split=[50, 50],
                   planned_per_arm=100)
    assert "sample ratio mismatch" not in fine.conclusion


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least two arms"):
        analyze({"a": [1.0, 0.0]})
    with pytest.raises(ValueError, match="b has fewer"):
        analyze({"a": [1.0, 0.0], "b": [1.0]})
    with pytest.raises(ValueError, match="kind must be"):
        analyze({"a": [1.0, 0.0], "b": [1.0, 0.0]}, kind="revenue")


def test_outcomes_per_arm_from_a_joined_frame() -> None:
    frame = pd.DataFrame({"model": ["p"] * 6, "version": ["1", "2", "1", "2", "2", "2"],
                          "role": ["arm", "arm", "arm", "arm", "shadow", "arm"],
                          "outcome": [True, False, None, True, True, 3.5]})
    found = arm_outcomes(frame, {"a": "p:1", "b": "p:2"})
    assert found["a"].tolist() == [1.0]
    assert found["b"].tolist() == [0.0, 1.0, 3.5]
    assert analyze({"a": [0.0, 1.0], "b": [1.0, 1.0]}).to_dict()["kind"] == "conversion"
