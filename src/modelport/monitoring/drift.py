"""Data drift per feature: fit on a reference frame, calculate on a window, one test per feature.

How the test is chosen: by column kind and by the *effective* sample size ``m·n/(m+n)`` of the
reference's (m) and the window's (n) non-missing rows. Up to :attr:`DriftConfig.small_sample_limit`
(1,000) a p-value test decides (KS for numerical, chi-square for categorical), because distances of
small samples are noisy and biased upward; above it a distance with a fixed threshold decides
(Wasserstein in reference standard deviations, Jensen-Shannon), because with enough rows every
p-value test finds a difference too small to matter: the complaint that drift tools cry wolf on big
data. The handover is smooth for numerical columns: at 1,000 effective rows KS at alpha 0.05 notices
a normal location shift of about 0.1 standard deviation, which is where the Wasserstein threshold
sits. For categorical columns the peers' Jensen-Shannon threshold of 0.1 is more lenient than
chi-square at 1,000 rows; set ``thresholds={"jensen_shannon": ...}`` to tighten it. PSI is available
for both kinds by naming it. Evidently chooses by the reference's size alone (at most 1,000 rows:
KS, chi-square or a z-test; more: Wasserstein and Jensen-Shannon), so a 10,000-row reference always
gets distances, even for a window of 50 rows. NannyML runs Jensen-Shannon on every column unless
told otherwise, alerting above 0.1, and sets the thresholds of KS and Wasserstein at 3 standard
deviations around their values on reference chunks.

Integer and float columns with at most 5 distinct reference values are treated as categorical
(Evidently does the same); booleans and categories are categorical; free strings and datetimes are
not monitored. Numerical tests see the non-missing values (the missing shares are reported next to
them); for categorical columns a missing value is a level of its own, so a change in how often a
field is missing is drift.

Beyond the peers: p-values are corrected for testing every feature at once (Benjamini-Hochberg by
default, Holm or none on request) before they decide; every feature reports an effect size; and
fitting runs an A/A check: the detector, configured as it will be used, compares random halves of
the reference (or a window-sized part against the rest) several times; a feature that alarms in more
than one of them would alarm on identical data, so it is reported as untrusted and left out of the
dataset-level drift share. A sound p-value test alarms in a split with probability alpha, in two of
five about 2 % of the time; a distance whose threshold sits inside its own sampling noise (many
categories, few rows) alarms in most.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from modelport.core.schema import ColumnKind, Signature, infer_signature
from modelport.errors import Problem, SchemaError
from modelport.monitoring import stats
from modelport.monitoring.stats import CATEGORICAL, NUMERICAL, TestResult

#: what a feature's kind may be given as: a signature kind, or the monitoring kind itself
KindLike = ColumnKind | str
#: a reference smaller than twice this is too small to split for the A/A check
AA_MIN_ROWS = 10


@dataclass(frozen=True)
class FeatureRule:
    """Per-feature overrides: force a test by name, and/or the threshold it decides with."""

    method: str | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class DriftConfig:
    """How drift is decided; the defaults follow the module docstring."""

    small_sample_limit: int = 1000
    correction: str = "bh"
    thresholds: Mapping[str, float] = field(default_factory=dict)
    features: Mapping[str, FeatureRule] = field(default_factory=dict)
    drift_share: float = 0.5
    categorical_max_unique: int = 5
    psi_bins: int = stats.PSI_BINS
    aa_repeats: int = 5
    aa_window: int | None = None
    aa_max_alarms: int = 1
    seed: int = 0
    workers: int = 1


@dataclass(frozen=True)
class FeatureDrift:
    """The drift of one feature in one window."""

    feature: str
    kind: str
    test: TestResult
    p_value_adjusted: float | None
    drifted: bool
    reference_rows: int
    window_rows: int
    missing_reference: float
    missing_window: float
    unseen: tuple[Hashable, ...] = ()
    trusted: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "kind": self.kind, **self.test.to_dict(),
                "p_value_adjusted": self.p_value_adjusted, "drifted": self.drifted,
                "reference_rows": self.reference_rows, "window_rows": self.window_rows,
                "missing_reference": self.missing_reference, "missing_window": self.missing_window,
                "unseen": [None if u is None else str(u) for u in self.unseen], "trusted": self.trusted}


@dataclass(frozen=True)
class DriftResult:
    """Every monitored feature's drift in one window, and the share of features that drifted."""

    features: tuple[FeatureDrift, ...]
    window_rows: int
    correction: str
    share_threshold: float
    skipped: Mapping[str, str] = field(default_factory=dict)
    aa_check: AACheck | None = None

    @property
    def drifted(self) -> tuple[str, ...]:
        return tuple(f.feature for f in self.features if f.drifted)

    @property
    def untrusted(self) -> tuple[str, ...]:
        return tuple(f.feature for f in self.features if not f.trusted)

    @property
    def drift_share(self) -> float:
        counted = [f for f in self.features if f.trusted]
        return sum(f.drifted for f in counted) / len(counted) if counted else 0.0

    @property
    def dataset_drift(self) -> bool:
        return any(f.trusted for f in self.features) and self.drift_share >= self.share_threshold

    def feature(self, name: str) -> FeatureDrift:
        for result in self.features:
            if result.feature == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"window_rows": self.window_rows, "correction": self.correction,
                "drift_share": self.drift_share, "share_threshold": self.share_threshold,
                "dataset_drift": self.dataset_drift, "drifted": list(self.drifted),
                "untrusted": list(self.untrusted), "skipped": dict(self.skipped),
                "aa_check": None if self.aa_check is None else self.aa_check.to_dict(),
                "features": [f.to_dict() for f in self.features]}


@dataclass(frozen=True)
class AACheck:
    """How often each feature alarmed when the reference was compared with itself."""

    repeats: int
    window_rows: int
    alarms: Mapping[str, int]
    max_alarms: int

    @property
    def flagged(self) -> tuple[str, ...]:
        """Features that alarmed more often than a sound detector would on identical data."""
        return tuple(name for name, count in self.alarms.items() if count > self.max_alarms)

    def to_dict(self) -> dict[str, Any]:
        return {"repeats": self.repeats, "window_rows": self.window_rows, "alarms": dict(self.alarms),
                "max_alarms": self.max_alarms, "flagged": list(self.flagged)}


@dataclass(frozen=True, eq=False)
class FeatureReference:
    """What fitting keeps of one feature: its kind and its prepared reference."""

    name: str
    kind: str
    rows: int
    missing_share: float
    numeric: stats.NumericReference | None = None
    counts: Mapping[Hashable, int] | None = None


def monitoring_kind(kind: KindLike, values: pd.Series, max_unique: int) -> str | None:
    """``numerical``, ``categorical`` or None (not monitored) for a column of the given kind."""
    if kind in (NUMERICAL, CATEGORICAL):
        return str(kind)
    column_kind = ColumnKind(kind)
    if column_kind in (ColumnKind.CATEGORY, ColumnKind.BOOL):
        return CATEGORICAL
    if column_kind in (ColumnKind.FLOAT, ColumnKind.INT):
        return CATEGORICAL if values.nunique(dropna=True) <= max_unique else NUMERICAL
    return None


def choose_method(kind: str, reference_rows: int, window_rows: int, small_sample_limit: int) -> str:
    """The test for a feature: a p-value test for small effective samples, a distance for large."""
    effective = reference_rows * window_rows / (reference_rows + window_rows)
    small = effective <= small_sample_limit
    if kind == NUMERICAL:
        return "ks" if small else "wasserstein"
    return "chi_square" if small else "jensen_shannon"


def numeric_values(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def fit_feature(name: str, kind: str, values: pd.Series, psi_bins: int) -> FeatureReference | None:
    """Prepare one feature's reference; None when it has no value to compare with."""
    rows = len(values)
    if kind == NUMERICAL:
        array = numeric_values(values)
        present = int(np.isfinite(array).sum())
        if present == 0:
            return None
        prepared = stats.NumericReference.fit(array, psi_bins)
        return FeatureReference(name, kind, present, 1 - present / rows, numeric=prepared)
    counts = stats.category_counts(values)
    if rows == 0:
        return None
    return FeatureReference(name, kind, rows, counts.get(None, 0) / rows, counts=counts)


class DataDriftCalculator:
    """``fit(reference, kinds)`` then ``calculate(window)`` → :class:`DriftResult`."""

    def __init__(self, config: DriftConfig | None = None) -> None:
        self.config = config or DriftConfig()

    def fit(self, reference: pd.DataFrame,
            kinds: Signature | Mapping[str, KindLike] | None = None) -> DataDriftCalculator:
        given = self._kinds(reference, kinds)
        missing = [Problem(name, "not in the reference frame") for name in given if name not in reference]
        if missing:
            raise SchemaError(missing)
        self.features_: dict[str, FeatureReference] = {}
        self.skipped_: dict[str, str] = {}
        for name, kind in given.items():
            resolved = monitoring_kind(kind, reference[name], self.config.categorical_max_unique)
            fitted = fit_feature(name, resolved, reference[name], self.config.psi_bins) if resolved else None
            if fitted is None:
                self.skipped_[name] = f"{kind} columns are not monitored" if resolved is None \
                    else "no values in the reference"
            else:
                self.features_[name] = fitted
        self.reference_rows_ = len(reference)
        self.aa_check_ = self._aa_check(reference)
        return self

    def fitted_kinds(self) -> dict[str, str]:
        """The monitoring kind each fitted feature was given, to refit the same way (A/A check)."""
        return {name: f.kind for name, f in self.features_.items()}

    def calculate(self, window: pd.DataFrame) -> DriftResult:
        absent = [Problem(name, "not in the window") for name in self.features_ if name not in window]
        if absent:
            raise SchemaError(absent)
        skipped = dict(self.skipped_)
        names = list(self.features_)
        if self.config.workers > 1:
            with ThreadPoolExecutor(self.config.workers) as pool:
                tested = list(pool.map(lambda n: self._test(self.features_[n], window[n]), names))
        else:
            tested = [self._test(self.features_[n], window[n]) for n in names]
        results = []
        for name, outcome in zip(names, tested, strict=True):
            if outcome is None:
                skipped[name] = "no values in the window"
            else:
                results.append(outcome)
        flagged = set(self.aa_check_.flagged)
        results = [replace(r, trusted=r.feature not in flagged) for r in self._correct(results)]
        return DriftResult(tuple(results), len(window), self.config.correction,
                           self.config.drift_share, skipped, self.aa_check_)

    def _kinds(self, reference: pd.DataFrame,
               kinds: Signature | Mapping[str, KindLike] | None) -> dict[str, KindLike]:
        if kinds is None:
            kinds = infer_signature(reference)
        if isinstance(kinds, Signature):
            return {spec.name: spec.kind for spec in kinds.inputs}
        return dict(kinds)

    def _rule(self, name: str, kind: str, reference_rows: int, window_rows: int) -> tuple[str, float | None]:
        rule = self.config.features.get(name, FeatureRule())
        method = rule.method or choose_method(kind, reference_rows, window_rows,
                                              self.config.small_sample_limit)
        threshold = rule.threshold if rule.threshold is not None else self.config.thresholds.get(method)
        return method, threshold

    def _test(self, feature: FeatureReference, values: pd.Series) -> FeatureDrift | None:
        rows = len(values)
        if rows == 0:
            return None
        if feature.numeric is not None:
            current = stats.numeric_sample(numeric_values(values))
            if current.size == 0:
                return None
            method, threshold = self._rule(feature.name, feature.kind, feature.rows, current.size)
            numerical = stats.NUMERICAL_TESTS.get(method)
            result = numerical(feature.numeric, current,
                               numerical.default_threshold if threshold is None else threshold)
            return FeatureDrift(feature.name, feature.kind, result, None, result.drifted, feature.rows,
                                int(current.size), feature.missing_share, 1 - current.size / rows)
        assert feature.counts is not None
        counts = stats.category_counts(values)
        levels, ref, cur = stats.align_counts(feature.counts, counts)
        method, threshold = self._rule(feature.name, feature.kind, feature.rows, rows)
        categorical = stats.CATEGORICAL_TESTS.get(method)
        result = categorical(ref, cur, categorical.default_threshold if threshold is None else threshold)
        unseen = levels[len(feature.counts):]
        return FeatureDrift(feature.name, feature.kind, result, None, result.drifted, feature.rows, rows,
                            feature.missing_share, counts.get(None, 0) / rows, unseen)

    def _aa_check(self, reference: pd.DataFrame) -> AACheck:
        config = self.config
        rows = len(reference)
        window = min(config.aa_window or rows // 2, rows // 2)
        if config.aa_repeats <= 0 or window < AA_MIN_ROWS or not self.features_:
            return AACheck(0, 0, {}, config.aa_max_alarms)
        inner = replace(config, aa_repeats=0, workers=1)
        kinds = self.fitted_kinds()
        rng = np.random.default_rng(config.seed)
        alarms = dict.fromkeys(kinds, 0)
        for _ in range(config.aa_repeats):
            order = rng.permutation(rows)
            half = DataDriftCalculator(inner).fit(reference.iloc[order[window:]], kinds)
            for name in half.calculate(reference.iloc[order[:window]]).drifted:
                alarms[name] += 1
        return AACheck(config.aa_repeats, window, alarms, config.aa_max_alarms)

    def _correct(self, results: Sequence[FeatureDrift]) -> list[FeatureDrift]:
        """Decide p-value tests on p-values corrected across this window's features."""
        tested = [i for i, r in enumerate(results) if r.test.p_value is not None]
        adjusted = stats.adjust_p_values([results[i].test.p_value or 0.0 for i in tested],
                                         self.config.correction)
        out = list(results)
        for i, p in zip(tested, adjusted.tolist(), strict=True):
            out[i] = replace(out[i], p_value_adjusted=p, drifted=p < out[i].test.threshold)
        return out


class PredictionDriftCalculator:
    """Drift of a model's outputs with the same machinery: shares of the predicted classes (or the
    predicted values of a regressor) and the distribution of each score column."""

    def __init__(self, prediction: str, scores: Sequence[str] = (), *, classification: bool = True,
                 config: DriftConfig | None = None) -> None:
        self.prediction = prediction
        self.scores = tuple(scores)
        self.classification = classification
        self.inner = DataDriftCalculator(config)

    def kinds(self) -> dict[str, str]:
        out = {self.prediction: CATEGORICAL if self.classification else NUMERICAL}
        out.update(dict.fromkeys(self.scores, NUMERICAL))
        return out

    def fit(self, reference: pd.DataFrame) -> PredictionDriftCalculator:
        self.inner.fit(reference, self.kinds())
        return self

    def calculate(self, window: pd.DataFrame) -> DriftResult:
        return self.inner.calculate(window)
