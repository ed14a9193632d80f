"""Data and prediction drift: A/A shows none, injected shifts are found exactly where they were made."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelport.core.schema import ColumnKind, infer_signature
from modelport.errors import SchemaError
from modelport.monitoring import stats
from modelport.monitoring.drift import (
    DataDriftCalculator,
    DriftConfig,
    FeatureRule,
    PredictionDriftCalculator,
    choose_method,
)
from tests.data import credit

SHIFTED = {"Age", "Income", "Home"}


def _credit_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The credit rows in a seeded random order: a reference and a window from one distribution."""
    frame, _ = credit()
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return shuffled.iloc[:2000].reset_index(drop=True), shuffled.iloc[2000:].reset_index(drop=True)


def _shift(window: pd.DataFrame) -> pd.DataFrame:
    moved = window.copy()
    moved["Age"] = moved["Age"] + 6
    moved["Income"] = moved["Income"] * 1.5
    moved["Home"] = moved["Home"].replace({"rent": "owner", "parents": "owner"})
    return moved


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _credit_split()


@pytest.fixture(scope="module")
def fitted(split: tuple[pd.DataFrame, pd.DataFrame]) -> DataDriftCalculator:
    reference, _ = split
    return DataDriftCalculator().fit(reference, infer_signature(reference))


def test_aa_on_credit_finds_no_drift_and_flags_nothing(
        fitted: DataDriftCalculator, split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, window = split
    assert fitted.aa_check_.repeats == 5
    assert fitted.aa_check_.flagged == ()
    for rows in (len(window), 300, 80):
        result = fitted.calculate(window.iloc[:rows])
        assert result.drifted == (), rows
        assert not result.dataset_drift


@pytest.mark.parametrize("rows", [2454, 300])
def test_injected_shift_is_found_in_exactly_the_shifted_features(
        fitted: DataDriftCalculator, split: tuple[pd.DataFrame, pd.DataFrame], rows: int) -> None:
    _, window = split
    result = fitted.calculate(_shift(window.iloc[:rows]))
    assert set(result.drifted) == SHIFTED
    assert result.drift_share == pytest.approx(3 / 13)
    assert not result.dataset_drift
    small = rows == 300
    assert result.feature("Age").test.method == ("ks" if small else "wasserstein")
    assert result.feature("Home").test.method == ("chi_square" if small else "jensen_shannon")


def test_the_test_follows_the_effective_sample_size() -> None:
    assert choose_method("numerical", 10_000, 1000, 1000) == "ks"
    assert choose_method("numerical", 10_000, 1112, 1000) == "wasserstein"
    assert choose_method("numerical", 500, 1_000_000, 1000) == "ks"
    assert choose_method("categorical", 10_000, 900, 1000) == "chi_square"
    assert choose_method("categorical", 10_000, 5000, 1000) == "jensen_shannon"


def test_p_values_are_corrected_across_features(
        fitted: DataDriftCalculator, split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, window = split
    result = fitted.calculate(_shift(window.iloc[:300]))
    tested = [f for f in result.features if f.test.p_value is not None]
    assert len(tested) == 13
    raw = [f.test.p_value for f in tested]
    expected = stats.adjust_p_values(raw, "bh")
    assert [f.p_value_adjusted for f in tested] == pytest.approx(expected.tolist(), abs=1e-12)
    assert all(f.drifted == (f.p_value_adjusted < 0.05) for f in tested)


def test_correction_changes_the_decision_where_it_should() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({f"x{i}": rng.normal(size=400) for i in range(20)})
    window = pd.DataFrame({f"x{i}": rng.normal(size=150) for i in range(20)})
    window["x0"] += 0.25
    base = DriftConfig(aa_repeats=0)
    raw = DataDriftCalculator(DriftConfig(correction="none", aa_repeats=0)).fit(reference).calculate(window)
    corrected = DataDriftCalculator(base).fit(reference).calculate(window)
    holm = DataDriftCalculator(DriftConfig(correction="holm", aa_repeats=0)).fit(reference).calculate(window)
    p0 = raw.feature("x0").test.p_value
    assert p0 is not None
    assert p0 < 0.05
    assert raw.feature("x0").drifted
    assert corrected.feature("x0").p_value_adjusted == pytest.approx(
        stats.adjust_p_values([f.test.p_value or 0 for f in raw.features], "bh")[0])
    assert holm.feature("x0").p_value_adjusted == pytest.approx(min(1.0, 20 * p0))
    assert len(raw.drifted) >= len(corrected.drifted) >= len(holm.drifted)


def test_per_feature_rules_and_global_thresholds_apply(
        split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, window = split
    config = DriftConfig(features={"Age": FeatureRule(method="psi", threshold=0.05),
                                   "Home": FeatureRule(method="psi")},
                         thresholds={"wasserstein": 0.5}, aa_repeats=0)
    result = DataDriftCalculator(config).fit(reference).calculate(_shift(window))
    age, home, income = result.feature("Age"), result.feature("Home"), result.feature("Income")
    assert (age.test.method, age.test.threshold) == ("psi", 0.05)
    assert (home.test.method, home.test.threshold) == ("psi", 0.2)
    assert (income.test.method, income.test.threshold) == ("wasserstein", 0.5)
    assert age.drifted
    assert income.drifted == (income.test.statistic >= 0.5)


def test_aa_check_flags_a_detector_that_alarms_on_identical_data() -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({
        "many_levels": rng.choice([f"l{i}" for i in range(40)], size=300),
        "tight": rng.normal(size=300),
        "sound": rng.normal(size=300),
    })
    config = DriftConfig(features={"many_levels": FeatureRule(method="jensen_shannon"),
                                   "tight": FeatureRule(method="wasserstein", threshold=0.05)})
    calculator = DataDriftCalculator(config).fit(reference)
    assert set(calculator.aa_check_.flagged) == {"many_levels", "tight"}
    assert calculator.aa_check_.alarms["sound"] <= 1
    window = pd.DataFrame({
        "many_levels": rng.choice([f"l{i}" for i in range(40)], size=300),
        "tight": rng.normal(size=300),
        "sound": rng.normal(size=300) + 1.0,
    })
    result = calculator.calculate(window)
    assert set(result.untrusted) == {"many_levels", "tight"}
    assert result.feature("sound").drifted
    assert result.drift_share == 1.0
    assert set(result.drifted) == {"many_levels", "tight", "sound"}


def test_column_kinds_decide_what_is_monitored_and_how() -> None:
    rng = np.random.default_rng(2)
    n = 500
    reference = pd.DataFrame({
        "level": rng.integers(0, 4, size=n),
        "amount": rng.normal(size=n),
        "flag": rng.random(n) < 0.3,
        "note": [f"free text {i}" for i in range(n)],
        "when": pd.date_range("2026-01-01", periods=n, freq="h"),
    })
    calculator = DataDriftCalculator(DriftConfig(aa_repeats=0)).fit(reference)
    assert calculator.fitted_kinds() == {"level": "categorical", "amount": "numerical", "flag": "categorical"}
    assert set(calculator.skipped_) == {"note", "when"}
    forced = DataDriftCalculator(DriftConfig(aa_repeats=0)).fit(
        reference, {"level": "numerical", "amount": ColumnKind.FLOAT})
    assert forced.fitted_kinds() == {"level": "numerical", "amount": "numerical"}


def test_unseen_categories_and_missing_values_are_reported() -> None:
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"colour": rng.choice(["red", "blue"], size=2000),
                              "size": rng.normal(size=2000)})
    window = pd.DataFrame({"colour": rng.choice(["red", "blue", "green"], size=3000),
                           "size": np.where(rng.random(3000) < 0.2, np.nan, rng.normal(size=3000))})
    result = DataDriftCalculator().fit(reference).calculate(window)
    colour, size = result.feature("colour"), result.feature("size")
    assert colour.unseen == ("green",)
    assert colour.drifted
    assert size.missing_reference == 0.0
    assert size.missing_window == pytest.approx(np.isnan(window["size"]).mean())
    assert size.window_rows == int(window["size"].notna().sum())
    assert not size.drifted


def test_a_categorical_field_going_missing_is_drift() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"channel": rng.choice(["web", "app"], size=2000)})
    window = pd.DataFrame({"channel": rng.choice(["web", "app"], size=2000).astype(object)})
    window.loc[:600, "channel"] = None
    result = DataDriftCalculator().fit(reference).calculate(window)
    assert result.feature("channel").unseen == (None,)
    assert result.drifted == ("channel",)


def test_a_window_without_values_for_a_feature_skips_it(split: tuple[pd.DataFrame, pd.DataFrame],
                                                        fitted: DataDriftCalculator) -> None:
    _, window = split
    empty_income = window.iloc[:100].assign(Income=np.nan)
    result = fitted.calculate(empty_income)
    assert result.skipped == {"Income": "no values in the window"}
    assert "Income" not in [f.feature for f in result.features]
    assert fitted.calculate(window.iloc[:0]).features == ()


def test_a_window_missing_a_feature_is_a_schema_error(fitted: DataDriftCalculator,
                                                     split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, window = split
    with pytest.raises(SchemaError, match="Income: not in the window"):
        fitted.calculate(window.drop(columns=["Income"]))
    with pytest.raises(SchemaError, match="nope: not in the reference"):
        DataDriftCalculator().fit(window, {"nope": "numerical"})


def test_threads_give_the_same_result(fitted: DataDriftCalculator,
                                      split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, window = split
    threaded = DataDriftCalculator(DriftConfig(workers=2))
    threaded.features_, threaded.skipped_, threaded.aa_check_ = (fitted.features_, fitted.skipped_,
                                                                 fitted.aa_check_)
    moved = _shift(window)
    assert threaded.calculate(moved) == fitted.calculate(moved)


def test_result_serialises_to_strict_json(fitted: DataDriftCalculator,
                                          split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, window = split
    data = json.loads(json.dumps(fitted.calculate(_shift(window.iloc[:300])).to_dict(), allow_nan=False))
    assert set(data["drifted"]) == SHIFTED
    assert data["features"][0]["feature"] == "Seniority"
    assert {"statistic", "p_value", "p_value_adjusted", "effect_size", "threshold", "trusted"} <= set(
        data["features"][0])
    assert data["aa_check"] == fitted.aa_check_.to_dict()
    assert data["aa_check"]["flagged"] == []


def test_prediction_drift_sees_class_shares_and_scores() -> None:
    rng = np.random.default_rng(6)
    score = rng.beta(2, 5, size=3000)
    reference = pd.DataFrame({"pred": np.where(score > 0.5, "bad", "good"), "p_bad": score})
    later = rng.beta(3, 4, size=3000)
    window = pd.DataFrame({"pred": np.where(later > 0.5, "bad", "good"), "p_bad": later})
    calculator = PredictionDriftCalculator("pred", ["p_bad"]).fit(reference)
    assert calculator.inner.fitted_kinds() == {"pred": "categorical", "p_bad": "numerical"}
    assert set(calculator.calculate(window).drifted) == {"pred", "p_bad"}
    same = pd.DataFrame({"pred": np.where(rng.beta(2, 5, 3000) > 0.5, "bad", "good"),
                         "p_bad": rng.beta(2, 5, 3000)})
    assert calculator.calculate(same).drifted == ()
    regression = PredictionDriftCalculator("value", classification=False).fit(
        pd.DataFrame({"value": rng.normal(size=3000)}))
    assert regression.calculate(pd.DataFrame({"value": rng.normal(0.5, 1, size=3000)})).drifted == ("value",)
