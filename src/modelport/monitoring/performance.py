"""Model performance once labels arrive: scikit-learn's metrics per window against the reference's.

Classification: accuracy, precision, recall, F1 (the positive class's when there are two classes,
the macro mean otherwise), ROC AUC (one-vs-rest macro for several classes), log loss, and
calibration: the reliability curve of ``sklearn.calibration.calibration_curve`` (uniform bins; the
positive class's probability for two classes, the top class's confidence otherwise) and its
expected calibration error, the bin-weighted mean gap between the curve and the diagonal.
Regression: MAE, RMSE, R². Every value is scikit-learn's own function on the window's rows; a
metric a window cannot define (ROC AUC with one class present) is None, never NaN.

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
        """Expected calibration error: the count-weighted mean of |observed - predicted|."""
        gaps = np.abs(np.subtract(self.observed, self.predicted))
        return float(np.average(gaps, weights=self.counts))

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
    values["calibration_error"] = curve.error
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
    """Which columns hold what, and how alerts are decided."""

    task: str = CLASSIFICATION
    target: str = "target"
    prediction: str = "prediction"
    scores: Sequence[str] = ()
    classes: Sequence[Hashable] = ()
    positive: Hashable | None = None
    bounds: Mapping[str, Bound] = field(default_factory=dict)
    sigmas: float = 3.0
    bootstrap: int = 30
    calibration_bins: int = 10
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

    @property
    def change(self) -> float | None:
        return None if self.value is None or self.reference is None else self.value - self.reference

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "reference": self.reference,
                "change": self.change, "lower": self.lower, "upper": self.upper, "alert": self.alert}


@dataclass(frozen=True)
class PerformanceResult:
    """A window's performance; ``estimated`` says whether it was measured on labels or estimated."""

    metrics: tuple[MetricResult, ...]
    rows: int
    estimated: bool = False
    calibration: CalibrationCurve | None = None

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
                "metrics": [m.to_dict() for m in self.metrics],
                "calibration": None if self.calibration is None else self.calibration.to_dict()}


def decide(name: str, value: float | None, reference: float | None, spread: float | None,
           rows: int, reference_rows: int, fixed: Bound | None, sigmas: float) -> MetricResult:
    """The bounds of one metric for a window of ``rows`` rows, and whether its value breaks them."""
    lower = upper = None
    if fixed is not None:
        lower, upper = fixed.lower, fixed.upper
    elif reference is not None and spread is not None and rows > 0:
        margin = sigmas * spread * float(np.sqrt(1 + reference_rows / rows))
        if name in LOWER_IS_BETTER:
            upper = reference + margin
        else:
            lower = reference - margin
    alert = value is not None and ((lower is not None and value < lower) or
                                   (upper is not None and value > upper))
    return MetricResult(name, value, reference, lower, upper, bool(alert))


class PerformanceCalculator:
    """``fit(reference)`` on labelled rows, ``calculate(window)`` → :class:`PerformanceResult`."""

    def __init__(self, config: PerformanceConfig) -> None:
        if config.task not in (CLASSIFICATION, REGRESSION):
            raise ValueError(f"task must be {CLASSIFICATION!r} or {REGRESSION!r}, not {config.task!r}")
        if config.task == CLASSIFICATION and config.scores and len(config.scores) != len(config.classes):
            raise ValueError("give one score column per class, in the order of classes")
        self.config = config

    def measure(self, frame: pd.DataFrame) -> tuple[dict[str, float | None], CalibrationCurve | None]:
        """Every metric of these rows, and the calibration curve when there are probabilities."""
        c = self.config
        truth, predicted = frame[c.target].to_numpy(), frame[c.prediction].to_numpy()
        if c.task == REGRESSION:
            return regression_metrics(truth.astype(np.float64), predicted.astype(np.float64)), None
        proba = frame[list(c.scores)].to_numpy(dtype=np.float64) if c.scores else None
        classes = list(c.classes) or sorted(set(truth.tolist()) | set(predicted.tolist()))
        # Class indices instead of labels: the same values, and scikit-learn's checks run 5x faster.
        codes = {label: k for k, label in enumerate(classes)}
        unknown = sorted({str(v) for v in truth.tolist() + predicted.tolist() if v not in codes})
        if unknown:
            raise SchemaError([Problem(c.target, f"labels {unknown} are not among the classes {classes}")])
        positive = None if c.positive is None else codes[c.positive]
        return classification_metrics(np.array([codes[v] for v in truth.tolist()]),
                                      np.array([codes[v] for v in predicted.tolist()]), proba,
                                      list(range(len(classes))), positive, c.calibration_bins)

    def fit(self, reference: pd.DataFrame) -> PerformanceCalculator:
        labelled = reference[reference[self.config.target].notna()]
        self.reference_, _ = self.measure(labelled)
        self.reference_rows_ = len(labelled)
        self.spread_ = self._bootstrap(labelled)
        return self

    def _bootstrap(self, labelled: pd.DataFrame) -> dict[str, float | None]:
        rng = np.random.default_rng(self.config.seed)
        draws: dict[str, list[float]] = {name: [] for name in self.reference_}
        for _ in range(self.config.bootstrap):
            values, _ = self.measure(labelled.iloc[rng.integers(0, len(labelled), len(labelled))])
            for name, value in values.items():
                if value is not None:
                    draws[name].append(value)
        return {name: float(np.std(d, ddof=1)) if len(d) > 1 else None for name, d in draws.items()}

    def calculate(self, window: pd.DataFrame) -> PerformanceResult:
        """The window's realized performance on its labelled rows (unlabelled rows are left out)."""
        labelled = window[window[self.config.target].notna()]
        if not len(labelled):
            return PerformanceResult((), 0)
        values, curve = self.measure(labelled)
        return PerformanceResult(self.results(values, len(labelled)), len(labelled), calibration=curve)

    def results(self, values: Mapping[str, float | None], rows: int) -> tuple[MetricResult, ...]:
        c = self.config
        return tuple(decide(name, value, self.reference_.get(name), self.spread_.get(name), rows,
                            self.reference_rows_, c.bounds.get(name), c.sigmas)
                     for name, value in values.items())
