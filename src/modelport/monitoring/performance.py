"""Model performance once labels arrive: scikit-learn's metrics per window against the reference's.

Classification: accuracy, precision, recall, F1 (the positive class's when there are two classes,
the macro mean otherwise), ROC AUC (one-vs-rest macro for several classes), log loss, and
calibration: the reliability curve of ``sklearn.calibration.calibration_curve`` (uniform bins; the
positive class's probability for two classes, the top class's confidence otherwise) and its
calibration error. Regression: MAE, RMSE, R². Every value is scikit-learn's own function on the
window's rows; a metric a window cannot define (ROC AUC with one class present) is None, never NaN.

Scores may be missing: rows logged by endpoints that return labels only (KServe v1, MLflow scoring)
or by old logs hold no probabilities. The label metrics are computed on every labelled row, ROC AUC,
log loss and calibration on the rows with probabilities only; where no row has them, those metrics
are left out and :attr:`PerformanceResult.skipped` says why. Each metric carries the rows it was
computed on.

The calibration error is not the textbook expected calibration error (ECE, the count-weighted mean
of |observed - predicted| over the bins), which is biased upward on few rows: a perfectly
calibrated model scores about 0.07 on 170 rows in 10 bins, 0.02 on 2,000, because each bin's
observed frequency is noisy and |noise| is positive. It is the debiased root-mean-square
calibration error of Kumar, Liang and Ma ("Verified uncertainty calibration", 2019): per bin, the
squared gap minus the variance of the observed frequency, ``(o - p)^2 - o(1 - o)/(n_b - 1)``,
averaged with bin weights, its square root taken (0 when the sum is negative). It is about 0 for a
calibrated model at any window size, and it is computed only on windows of at least
``calibration_min_rows`` rows with probabilities (10 per bin on average by default); smaller windows
report None with the reason. :attr:`CalibrationCurve.error` keeps the textbook ECE for comparison.

Alert bounds: fixed ones per metric when configured; otherwise the reference's value minus (or
plus, where lower is better) ``sigmas`` standard errors of the *difference* between a window of n
rows and the reference of m rows, ``s * sqrt(1 + m/n)``, where s is the metric's standard deviation
over bootstrap resamples of the reference. NannyML sets its bounds at mean +- 3 standard deviations
of the metric over reference chunks of one size; ours follow each window's size and keep the
reference's own uncertainty, so a million-row window does not alarm on a change smaller than the
reference can resolve. Only a change for the worse alerts.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from modelport.errors import Problem, SchemaError

CLASSIFICATION = "classification"
REGRESSION = "regression"
#: metrics where a larger value is worse; every other metric is better when larger
LOWER_IS_BETTER = frozenset({"log_loss", "calibration_error", "mae", "rmse"})


@dataclass(frozen=True)
class CalibrationCurve:
    """Observed frequency against mean predicted probability in each non-empty bin."""

    observed: tuple[float, ...]
    predicted: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def error(self) -> float:
        """Expected calibration error: the count-weighted mean of |observed - predicted| (biased upward
        on few rows; see :attr:`debiased_error`)."""
        gaps = np.abs(np.subtract(self.observed, self.predicted))
        return float(np.average(gaps, weights=self.counts))

    @property
    def debiased_error(self) -> float:
        """Debiased root-mean-square calibration error (Kumar et al. 2019); bins of one row add nothing."""
        observed, predicted = np.asarray(self.observed), np.asarray(self.predicted)
        counts = np.asarray(self.counts, dtype=np.float64)
        several = counts > 1
        noise = np.zeros_like(observed)
        noise[several] = observed[several] * (1 - observed[several]) / (counts[several] - 1)
        squared = np.where(several, (observed - predicted) ** 2 - noise, 0.0)
        return float(np.sqrt(max(float(np.sum(counts * squared) / counts.sum()), 0.0)))

    def to_dict(self) -> dict[str, Any]:
        return {"observed": list(self.observed), "predicted": list(self.predicted),
                "counts": list(self.counts)}


def calibration(hits: np.ndarray, probability: np.ndarray, bins: int = 10) -> CalibrationCurve:
    """The reliability curve of ``calibration_curve(strategy="uniform")`` with each bin's row count."""
    observed, predicted = calibration_curve(np.asarray(hits, dtype=bool), probability, n_bins=bins,
                                            strategy="uniform", pos_label=True)
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], probability), minlength=bins)
    counts = counts[counts > 0]
    return CalibrationCurve(tuple(map(float, observed)), tuple(map(float, predicted)),
                            tuple(int(c) for c in counts))


def classification_metrics(truth: Sequence[Hashable] | np.ndarray, predicted: Sequence[Hashable] | np.ndarray,
                           probabilities: np.ndarray | None, classes: Sequence[Hashable],
                           positive: Hashable | None = None, bins: int = 10
                           ) -> tuple[dict[str, float | None], CalibrationCurve | None]:
    """The classification metrics of one set of rows, each as scikit-learn computes it."""
    y, pred, labels = np.asarray(truth), np.asarray(predicted), list(classes)
    binary = len(labels) == 2
    positive = labels[1] if positive is None and binary else positive
    scoring: dict[str, Any] = ({"average": "binary", "pos_label": positive} if binary
                               else {"average": "macro", "labels": labels})
    values: dict[str, float | None] = {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "precision": float(skm.precision_score(y, pred, zero_division=0, **scoring)),
        "recall": float(skm.recall_score(y, pred, zero_division=0, **scoring)),
        "f1": float(skm.f1_score(y, pred, zero_division=0, **scoring)),
    }
    if probabilities is None:
        return values, None
    proba = np.asarray(probabilities, dtype=np.float64)
    present = set(np.unique(y).tolist())
    if binary:
        score, hits = proba[:, labels.index(positive)], y == positive
        values["roc_auc"] = float(skm.roc_auc_score(hits, score)) if len(present) == 2 else None
        curve = calibration(hits, score, bins)
    else:
        every_class = present == set(labels)
        values["roc_auc"] = (float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels))
                             if every_class else None)
        top = np.asarray(labels, dtype=object)[np.argmax(proba, axis=1)]
        curve = calibration(top == y, proba.max(axis=1), bins)
    # log_loss reads probability columns in sorted label order, whatever order ``labels`` has
    order = np.argsort(np.asarray(labels, dtype=object), kind="stable")
    values["log_loss"] = float(skm.log_loss(y, proba[:, order], labels=[labels[i] for i in order]))
    values["calibration_error"] = curve.debiased_error
    return values, curve


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """MAE, RMSE and R² as scikit-learn computes them (R² is None for fewer than two rows)."""
    return {
        "mae": float(skm.mean_absolute_error(truth, predicted)),
        "rmse": float(skm.root_mean_squared_error(truth, predicted)),
        "r2": float(skm.r2_score(truth, predicted)) if len(truth) >= 2 else None,
    }


@dataclass(frozen=True)
class Bound:
    """A fixed alert bound for one metric: alert below ``lower`` or above ``upper``."""

    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class PerformanceConfig:
    """Which columns hold what, and how alerts are decided.

    ``bounds`` are absolute (accuracy never below 0.8); ``tolerances`` say how much worse than the
    reference a metric may get (accuracy at most 0.05 below the reference's). Without a tolerance a
    metric alerts on any change the window and reference sizes can resolve (``sigmas``).
    """

    task: str = CLASSIFICATION
    target: str = "target"
    prediction: str = "prediction"
    scores: Sequence[str] = ()
    classes: Sequence[Hashable] = ()
    positive: Hashable | None = None
    bounds: Mapping[str, Bound] = field(default_factory=dict)
    tolerances: Mapping[str, float] = field(default_factory=dict)
    sigmas: float = 3.0
    bootstrap: int = 30
    calibration_bins: int = 10
    calibration_min_rows: int = 100
    seed: int = 0


@dataclass(frozen=True)
class MetricResult:
    """One metric in one window, beside the reference's value and the bounds that decide alerts."""

    metric: str
    value: float | None
    reference: float | None
    lower: float | None
    upper: float | None
    alert: bool
    #: the rows the value was computed on (fewer than the window's for metrics that need scores)
    rows: int | None = None

    @property
    def change(self) -> float | None:
        return None if self.value is None or self.reference is None else self.value - self.reference

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "reference": self.reference,
                "change": self.change, "lower": self.lower, "upper": self.upper, "alert": self.alert,
                "rows": self.rows}


@dataclass(frozen=True)
class PerformanceResult:
    """A window's performance; ``estimated`` says whether it was measured on labels or estimated.

    ``skipped`` names each metric that could not be computed on the window and why.
    """

    metrics: tuple[MetricResult, ...]
    rows: int
    estimated: bool = False
    calibration: CalibrationCurve | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def alerts(self) -> tuple[str, ...]:
        return tuple(m.metric for m in self.metrics if m.alert)

    def metric(self, name: str) -> MetricResult:
        for result in self.metrics:
            if result.metric == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "estimated" if self.estimated else "realized", "estimated": self.estimated,
                "rows": self.rows, "alerts": list(self.alerts),
                "metrics": [m.to_dict() for m in self.metrics], "skipped": dict(self.skipped),
                "calibration": None if self.calibration is None else self.calibration.to_dict()}


@dataclass
class Measurement:
    """Every metric computed on some rows: values, the rows behind each, and what was skipped, why."""

    values: dict[str, float | None]
    rows: dict[str, int]
    skipped: dict[str, str] = field(default_factory=dict)
    curve: CalibrationCurve | None = None


#: the classification metrics that read probabilities
SCORE_METRICS = ("roc_auc", "log_loss", "calibration_error")
NO_SCORES = ("no probabilities were logged for these rows (endpoints that answer with labels only, "
             "such as KServe v1 and MLflow scoring, or an older log)")


def finite_rows(scores: np.ndarray) -> np.ndarray:
    """Which rows hold a probability in every score column."""
    return np.asarray(np.isfinite(scores).all(axis=1), dtype=bool)


def as_scores(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The score columns as floats, a missing value (None, NaN, absent column) as NaN."""
    present = [frame[c] if c in frame else pd.Series(np.nan, index=frame.index) for c in columns]
    return np.column_stack([pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                            for s in present]) if present else np.empty((len(frame), 0))


def decide(name: str, value: float | None, reference: float | None, spread: float | None,
           rows: int, reference_rows: int, fixed: Bound | None, sigmas: float,
           tolerance: float | None = None) -> MetricResult:
    """The bounds of one metric for a window of ``rows`` rows, and whether its value breaks them.

    Relative to the reference: worse by more than the larger of ``tolerance`` and ``sigmas`` standard
    errors of the difference. A fixed bound applies as well; the stricter one decides.
    """
    lower = upper = None
    if reference is not None and spread is not None and rows > 0:
        margin = sigmas * spread * float(np.sqrt(1 + reference_rows / rows))
        margin = max(margin, tolerance) if tolerance is not None else margin
        if name in LOWER_IS_BETTER:
            upper = reference + margin
        else:
            lower = reference - margin
    if fixed is not None:
        lower = max((b for b in (lower, fixed.lower) if b is not None), default=None)
        upper = min((b for b in (upper, fixed.upper) if b is not None), default=None)
    alert = value is not None and ((lower is not None and value < lower) or
                                   (upper is not None and value > upper))
    return MetricResult(name, value, reference, lower, upper, bool(alert), rows)


class PerformanceCalculator:
    """``fit(reference)`` on labelled rows, ``calculate(window)`` → :class:`PerformanceResult`."""

    def __init__(self, config: PerformanceConfig) -> None:
        if config.task not in (CLASSIFICATION, REGRESSION):
            raise ValueError(f"task must be {CLASSIFICATION!r} or {REGRESSION!r}, not {config.task!r}")
        if config.task == CLASSIFICATION and config.scores and len(config.scores) != len(config.classes):
            raise ValueError("give one score column per class, in the order of classes")
        self.config = config

    def measure(self, frame: pd.DataFrame) -> Measurement:
        """Every metric of these labelled rows; those needing scores on the rows that have them."""
        c = self.config
        truth, predicted = frame[c.target].to_numpy(), frame[c.prediction].to_numpy()
        rows = len(frame)
        if c.task == REGRESSION:
            values = regression_metrics(truth.astype(np.float64), predicted.astype(np.float64))
            return Measurement(values, dict.fromkeys(values, rows))
        classes = list(c.classes) or sorted(set(truth.tolist()) | set(predicted.tolist()))
        # Class indices instead of labels: the same values, and scikit-learn's checks run 5x faster.
        codes = {label: k for k, label in enumerate(classes)}
        unknown = sorted({str(v) for v in truth.tolist() + predicted.tolist() if v not in codes})
        if unknown:
            raise SchemaError([Problem(c.target, f"labels {unknown} are not among the classes {classes}")])
        positive = None if c.positive is None else codes[c.positive]
        y = np.array([codes[v] for v in truth.tolist()], dtype=np.int64)
        pred = np.array([codes[v] for v in predicted.tolist()], dtype=np.int64)
        labels = list(range(len(classes)))
        values, _ = classification_metrics(y, pred, None, labels, positive)
        measured = Measurement(values, dict.fromkeys(values, rows))
        if c.scores:
            self._scored(measured, y, pred, as_scores(frame, c.scores), labels, positive)
        return measured

    def _scored(self, measured: Measurement, y: np.ndarray, pred: np.ndarray, scores: np.ndarray,
                labels: Sequence[Hashable], positive: Hashable | None) -> None:
        """Add the metrics that read probabilities, computed on the rows that hold them."""
        c = self.config
        finite = finite_rows(scores)
        scored = int(finite.sum())
        if not scored:
            measured.skipped.update(dict.fromkeys(SCORE_METRICS, NO_SCORES))
            return
        values, curve = classification_metrics(y[finite], pred[finite], scores[finite], list(labels),
                                               positive, c.calibration_bins)
        for name in SCORE_METRICS:
            measured.values[name], measured.rows[name] = values[name], scored
        if scored < c.calibration_min_rows:
            del measured.values["calibration_error"], measured.rows["calibration_error"]
            measured.skipped["calibration_error"] = (
                f"{scored} rows with probabilities, fewer than the {c.calibration_min_rows} a calibration "
                "error needs")
            return
        measured.curve = curve

    def fit(self, reference: pd.DataFrame) -> PerformanceCalculator:
        """Measure the labelled reference (none: only the fixed bounds will decide alerts)."""
        labelled = reference[reference[self.config.target].notna()]
        self.reference_rows_ = len(labelled)
        self.reference_: dict[str, float | None] = {}
        self.spread_: dict[str, float | None] = {}
        if len(labelled):
            self.reference_ = self.measure(labelled).values
            self.spread_ = self._bootstrap(labelled)
        return self

    @property
    def has_reference(self) -> bool:
        """Whether the reference had labels to measure (otherwise alerts follow fixed bounds only)."""
        return self.reference_rows_ > 0

    def _bootstrap(self, labelled: pd.DataFrame) -> dict[str, float | None]:
        rng = np.random.default_rng(self.config.seed)
        draws: dict[str, list[float]] = {name: [] for name in self.reference_}
        for _ in range(self.config.bootstrap):
            values = self.measure(labelled.iloc[rng.integers(0, len(labelled), len(labelled))]).values
            for name, value in values.items():
                if value is not None and name in draws:
                    draws[name].append(value)
        return {name: float(np.std(d, ddof=1)) if len(d) > 1 else None for name, d in draws.items()}

    def calculate(self, window: pd.DataFrame) -> PerformanceResult:
        """The window's realized performance on its labelled rows (unlabelled rows are left out)."""
        labelled = window[window[self.config.target].notna()]
        if not len(labelled):
            return PerformanceResult((), 0)
        measured = self.measure(labelled)
        return PerformanceResult(self.results(measured.values, measured.rows), len(labelled),
                                 calibration=measured.curve, skipped=measured.skipped)

    def results(self, values: Mapping[str, float | None], rows: Mapping[str, int] | int
                ) -> tuple[MetricResult, ...]:
        """Each value beside the reference's and its bounds; ``rows`` per metric or for all of them."""
        c = self.config
        return tuple(decide(name, value, self.reference_.get(name), self.spread_.get(name),
                            rows if isinstance(rows, int) else rows[name], self.reference_rows_,
                            c.bounds.get(name), c.sigmas, c.tolerances.get(name))
                     for name, value in values.items())
