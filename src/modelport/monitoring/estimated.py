"""Estimated classification performance before labels arrive, from calibrated probabilities (CBPE).

As NannyML's confidence-based performance estimation: the model's probabilities are calibrated on
the labelled reference (isotonic regression, one-vs-rest per class, rows renormalised), and each
metric's *expected* value in the window follows from them. With p_ik the calibrated probability that
row i is of class k and ŷ_i the model's predicted class, the expected confusion counts of class k
are TP = Σ_{ŷ=k} p_ik, FP = Σ_{ŷ=k} (1 - p_ik) and FN = Σ_{ŷ≠k} p_ik; accuracy, precision, recall
and F1 follow (the positive class's for two classes, macro means otherwise). The expected ROC AUC
counts every row as a positive of weight p and a negative of weight 1 - p, ranked by the model's
own score, which is NannyML's curve of expected true and false positive rates.

The estimate holds while the relation between inputs and labels stays as it was in the reference
(covariate shift); under concept drift only labels tell. NannyML calibrates only when a
cross-validated check says it helps; we always calibrate (isotonic regression leaves a calibrated
model's probabilities almost as they were). Every result says ``estimated=True``; its alert bounds
are the realized metrics' bounds around the reference's realized values.

The estimate needs the probabilities: rows logged without them (labels-only endpoints, old logs)
are left out, and a window with none is not estimated, its result's ``skipped`` saying why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression

from modelport.monitoring.performance import (
    CLASSIFICATION,
    NO_SCORES,
    PerformanceCalculator,
    PerformanceConfig,
    PerformanceResult,
    as_scores,
    finite_rows,
)

ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def expected_roc_auc(score: np.ndarray, probability: np.ndarray) -> float | None:
    """ROC AUC when row i is a positive with probability ``probability[i]``, ranked by ``score``."""
    positives, negatives = float(probability.sum()), float((1 - probability).sum())
    if positives <= 0 or negatives <= 0:
        return None
    truth = np.concatenate([np.ones(score.size), np.zeros(score.size)])
    weights = np.concatenate([probability, 1 - probability])
    return float(skm.roc_auc_score(truth, np.concatenate([score, score]), sample_weight=weights))


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom > 0 else 0.0


def expected_metrics(predicted: np.ndarray, scores: np.ndarray, calibrated: np.ndarray,
                     positive: int | None) -> dict[str, float | None]:
    """Expected metrics of rows whose predicted class indices, raw scores and calibrated probabilities
    are given; ``positive`` is the positive class's index for two classes, None for macro means."""
    rows, classes = calibrated.shape
    hit = np.zeros_like(calibrated)
    known = predicted >= 0
    hit[np.flatnonzero(known), predicted[known]] = 1.0
    tp = (hit * calibrated).sum(axis=0)
    fp = (hit * (1 - calibrated)).sum(axis=0)
    fn = ((1 - hit) * calibrated).sum(axis=0)
    precision = np.array([_ratio(tp[k], tp[k] + fp[k]) for k in range(classes)])
    recall = np.array([_ratio(tp[k], tp[k] + fn[k]) for k in range(classes)])
    f1 = np.array([_ratio(2 * tp[k], 2 * tp[k] + fp[k] + fn[k]) for k in range(classes)])
    chosen = [positive] if positive is not None else list(range(classes))
    aucs = [expected_roc_auc(scores[:, k], calibrated[:, k]) for k in chosen]
    defined = [a for a in aucs if a is not None]
    return {
        "accuracy": float(tp.sum() / rows),
        "precision": float(precision[chosen].mean()),
        "recall": float(recall[chosen].mean()),
        "f1": float(f1[chosen].mean()),
        "roc_auc": float(np.mean(defined)) if len(defined) == len(aucs) else None,
    }


class EstimatedPerformanceCalculator:
    """``fit(reference)`` on labelled rows with scores, ``calculate(window)`` on unlabelled ones."""

    def __init__(self, config: PerformanceConfig) -> None:
        if config.task != CLASSIFICATION or not config.scores:
            raise ValueError("performance can be estimated only for classifiers with score columns")
        self.config = config
        self.realized = PerformanceCalculator(config)

    @property
    def classes(self) -> list[object]:
        return list(self.config.classes)

    def fit(self, reference: pd.DataFrame) -> EstimatedPerformanceCalculator:
        labelled = reference[reference[self.config.target].notna()]
        self.realized.fit(labelled)
        scores = self._scores(labelled)
        finite = finite_rows(scores)
        if not finite.any():
            raise ValueError("the reference has no labelled rows with probabilities to calibrate on")
        truth, scores = labelled[self.config.target].to_numpy()[finite], scores[finite]
        self.calibrators_ = [IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                             .fit(scores[:, k], (truth == label).astype(np.float64))
                             for k, label in enumerate(self.classes)]
        return self

    def _scores(self, frame: pd.DataFrame) -> np.ndarray:
        return as_scores(frame, self.config.scores)

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities for raw score rows (columns in the order of ``classes``)."""
        if len(self.classes) == 2:
            positive = self.calibrators_[1].predict(scores[:, 1])
            return np.column_stack([1 - positive, positive])
        raw = np.column_stack([c.predict(scores[:, k]) for k, c in enumerate(self.calibrators_)])
        totals = raw.sum(axis=1, keepdims=True)
        uniform = np.full_like(raw, 1 / raw.shape[1])
        return np.where(totals > 0, raw / np.where(totals > 0, totals, 1), uniform)

    def estimate(self, frame: pd.DataFrame) -> dict[str, float | None]:
        """The expected metrics of these rows, from their predictions and scores alone."""
        index = {label: k for k, label in enumerate(self.classes)}
        labels = frame[self.config.prediction].tolist()
        predicted = np.array([index.get(v, -1) for v in labels], dtype=np.int64)
        scores = self._scores(frame)
        positive = None
        if len(self.classes) == 2:
            chosen = self.config.positive if self.config.positive is not None else self.classes[1]
            positive = index[chosen]
        return expected_metrics(predicted, scores, self.calibrate(scores), positive)

    def calculate(self, window: pd.DataFrame) -> PerformanceResult:
        """The window's estimated performance on its rows with probabilities; labels are not read."""
        if not len(window):
            return PerformanceResult((), 0, estimated=True)
        scored = window[finite_rows(self._scores(window))]
        if not len(scored):
            skipped = dict.fromkeys(ESTIMATED_METRICS, NO_SCORES)
            return PerformanceResult((), 0, estimated=True, skipped=skipped)
        values = self.estimate(scored)
        return PerformanceResult(self.realized.results(values, len(scored)), len(scored), estimated=True)
