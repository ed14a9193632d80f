"""Every drift statistic equals scipy's on the same fixed data, to 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.spatial import distance

from modelport.monitoring import stats

TOL = 1e-9


def _numeric_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return {
        "same": (rng.normal(size=400), rng.normal(size=300)),
        "shifted": (rng.normal(size=400), rng.normal(0.4, 1.2, size=250)),
        "small": (rng.normal(size=30), rng.normal(0.5, 1.0, size=12)),
        "ties": (np.round(rng.normal(size=500) * 2), np.round(rng.normal(0.2, 1, size=700) * 2)),
        "large_window": (rng.normal(size=2000), rng.exponential(size=50_000)),
        "heavy_tail": (rng.standard_t(2, size=800), rng.standard_t(2, size=800) + 0.3),
    }


NUMERIC = _numeric_pairs()


@pytest.fixture(params=sorted(NUMERIC))
def pair(request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray]:
    return NUMERIC[request.param]


def test_ks_equals_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = pair
    result = stats.ks(stats.NumericReference.fit(ref), stats.numeric_sample(cur), alpha=0.05)
    expected = sps.ks_2samp(ref, cur)
    assert result.statistic == pytest.approx(expected.statistic, abs=TOL)
    assert result.p_value == pytest.approx(expected.pvalue, abs=TOL)
    assert result.drifted == (expected.pvalue < 0.05)
    assert result.threshold == 0.05


def test_normalised_wasserstein_equals_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = pair
    result = stats.wasserstein(stats.NumericReference.fit(ref), stats.numeric_sample(cur), threshold=0.1)
    expected = sps.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    assert result.statistic == pytest.approx(expected, abs=TOL)
    assert result.effect_size == result.statistic
    assert result.p_value is None
    assert result.drifted == (expected >= 0.1)


def test_wasserstein_merge_equals_scipy_on_awkward_samples() -> None:
    rng = np.random.default_rng(3)
    cases = [(np.array([1.0]), np.array([2.0])), (np.array([0.0, 0.0, 0.0]), np.array([0.0, 1.0])),
             (np.arange(5.0), np.arange(5.0)), (np.array([3.0, 1.0, 2.0]), np.array([2.0, 2.0, 2.0, 9.0]))]
    cases += [(rng.integers(0, 4, size=rng.integers(1, 60)).astype(float),
               rng.integers(0, 6, size=rng.integers(1, 60)).astype(float)) for _ in range(50)]
    for ref, cur in cases:
        assert stats.wasserstein_raw(np.sort(ref), np.sort(cur)) == pytest.approx(
            sps.wasserstein_distance(ref, cur), abs=TOL)


def test_constant_reference_is_scaled_by_the_floor() -> None:
    reference = stats.NumericReference.fit(np.full(50, 3.0))
    result = stats.wasserstein(reference, stats.numeric_sample([3.0, 3.0, 3.002]))
    assert reference.std == 0.0
    expected = sps.wasserstein_distance(np.full(50, 3.0), [3, 3, 3.002]) / 0.001
    assert result.statistic == pytest.approx(expected)


def test_numeric_sample_drops_missing_and_sorts() -> None:
    sample = stats.numeric_sample([3.0, np.nan, 1.0, np.inf, 2.0])
    assert sample.tolist() == [1.0, 2.0, 3.0]


COUNTS = {
    "same": ([50, 30, 20], [48, 33, 19]),
    "moved": ([50, 30, 20], [20, 30, 50]),
    "two_levels": ([700, 300], [640, 360]),
    "unseen_level": ([60, 40, 0], [50, 35, 15]),
    "level_gone": ([60, 40, 5], [70, 30, 0]),
    "empty_column": ([60, 0, 40], [55, 0, 45]),
}


@pytest.fixture(params=sorted(COUNTS))
def counts(request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray]:
    ref, cur = COUNTS[request.param]
    return np.array(ref, dtype=np.int64), np.array(cur, dtype=np.int64)


def test_chi_square_equals_scipy_contingency(counts: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = counts
    result = stats.chi_square(ref, cur, alpha=0.05)
    expected = sps.chi2_contingency(stats.pool_rare(np.vstack([ref, cur])), correction=False)
    assert result.statistic == pytest.approx(expected.statistic, abs=TOL)
    assert result.p_value == pytest.approx(expected.pvalue, abs=TOL)
    shares = distance.jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2)
    assert result.effect_size == pytest.approx(shares, abs=TOL)


def test_rare_levels_are_pooled_until_every_expected_count_reaches_five() -> None:
    plenty = np.array([[50, 30, 20], [48, 33, 19]])
    assert stats.pool_rare(plenty).tolist() == plenty.tolist()
    three_rare = np.array([[500, 400, 30, 20, 0], [50, 40, 3, 2, 1]])
    assert stats.pool_rare(three_rare).tolist() == [[500, 400, 50], [50, 40, 6]]
    pooled_still_rare = np.array([[500, 400, 3, 2, 0], [50, 40, 1, 0, 1]])
    assert stats.pool_rare(pooled_still_rare).tolist() == [[500, 405], [50, 42]]
    lone_rare = np.array([[60, 40, 5], [70, 30, 0]])
    assert stats.pool_rare(lone_rare).tolist() == [[60, 45], [70, 30]]
    hopeless = np.array([[900, 100], [2, 0]])
    assert stats.pool_rare(hopeless).tolist() == [[1000], [2]]


def test_one_unseen_row_in_a_small_window_is_no_evidence() -> None:
    # exactly: the one row of a new level lands among the window's 80 of 2,081 with probability 0.038
    result = stats.chi_square(np.array([1459, 437, 60, 23, 21, 0]), np.array([62, 14, 2, 1, 0, 1]))
    assert result.p_value is not None
    assert result.p_value > 0.05
    unpooled = sps.chi2_contingency(np.array([[1459, 437, 60, 23, 21, 0], [62, 14, 2, 1, 0, 1]]),
                                    correction=False)
    assert unpooled.pvalue < 1e-3


def test_chi_square_of_one_shared_level_is_no_evidence() -> None:
    result = stats.chi_square(np.array([10, 0]), np.array([4, 0]))
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)


def test_jensen_shannon_equals_scipy_base_2(counts: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = counts
    result = stats.jensen_shannon(ref, cur, threshold=0.1)
    expected = distance.jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2)
    assert result.statistic == pytest.approx(expected, abs=TOL)
    assert result.drifted == (expected >= 0.1)


def test_psi_is_the_symmetric_kl_of_floored_shares(counts: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = counts
    p, q = stats.psi_shares(cur), stats.psi_shares(ref)
    expected = sps.entropy(p, q) + sps.entropy(q, p)
    assert stats.psi_categorical(ref, cur).statistic == pytest.approx(expected, abs=TOL)


def test_psi_by_hand() -> None:
    ref, cur = np.array([50, 50]), np.array([25, 75])
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert stats.psi_categorical(ref, cur).statistic == pytest.approx(expected, abs=TOL)


def test_numeric_psi_bins_at_reference_deciles() -> None:
    rng = np.random.default_rng(11)
    ref = rng.normal(size=10_000)
    reference = stats.NumericReference.fit(ref, bins=10)
    np.testing.assert_allclose(reference.edges, np.quantile(ref, np.arange(1, 10) / 10))
    assert reference.bin_counts.tolist() == [1000] * 10
    cur = np.sort(np.concatenate([rng.normal(size=900), [-50.0] * 50, [50.0] * 50]))
    window = stats.bin_counts(cur, reference.edges)
    assert window.sum() == cur.size
    expected_counts = np.histogram(cur, np.concatenate([[-np.inf], reference.edges, [np.inf]]))[0]
    assert window[1:-1].tolist() == expected_counts[1:-1].tolist()
    assert window[0] >= 50
    assert window[-1] >= 50
    p, q = stats.psi_shares(window), stats.psi_shares(reference.bin_counts)
    assert stats.psi_numeric(reference, cur).statistic == pytest.approx(sps.entropy(p, q) + sps.entropy(q, p),
                                                                       abs=TOL)


def test_psi_bins_collapse_on_ties() -> None:
    ref = np.array([0.0] * 60 + list(range(1, 41)), dtype=float)
    reference = stats.NumericReference.fit(ref, bins=10)
    assert reference.edges[0] == 0.0
    assert reference.bin_counts[0] == 60
    assert reference.bin_counts.sum() == 100


def test_bh_equals_scipy_and_holm_equals_its_definition() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.2, 0.04])
    np.testing.assert_allclose(stats.adjust_p_values(p, "bh"), sps.false_discovery_control(p, method="bh"),
                               atol=TOL)
    order = np.argsort(p, kind="stable")
    m = p.size
    holm = np.empty(m)
    for rank, i in enumerate(order):
        holm[i] = min(1.0, max((m - j) * p[order[j]] for j in range(rank + 1)))
    np.testing.assert_allclose(stats.adjust_p_values(p, "holm"), holm, atol=TOL)
    np.testing.assert_array_equal(stats.adjust_p_values(p, "none"), p)
    assert stats.adjust_p_values([], "bh").size == 0
    with pytest.raises(ValueError, match="unknown correction"):
        stats.adjust_p_values(p, "bonferonni")


def test_category_counts_count_every_kind_of_missing_as_one_level() -> None:
    values = pd.Series(["a", None, "b", np.nan, "a", pd.NA], dtype=object)
    assert stats.category_counts(values) == {"a": 2, "b": 1, None: 3}
    assert stats.category_counts(pd.Series(pd.Categorical(["x", None, "x"]))) == {"x": 2, None: 1}


def test_align_counts_appends_unseen_levels() -> None:
    levels, ref, cur = stats.align_counts({"a": 3, "b": 1}, {"c": 2, "a": 5})
    assert levels == ("a", "b", "c")
    assert ref.tolist() == [3, 1, 0]
    assert cur.tolist() == [5, 0, 2]


def test_empty_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one finite value"):
        stats.NumericReference.fit([np.nan])
