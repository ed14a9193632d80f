"""Feature-importance shift: permutation importance on a recent labelled window against the reference's.

The artifact stores two sets of reference importances (``reference/importances.json``): ``model``,
what the fitted model exposes (often on encoded columns, on the model's own scale), and
``permutation``, the mean drop in accuracy (classification) or R² (regression) when one raw input
column is shuffled, over at most 1,000 seeded rows and 3 repeats. A window's importances are
computed the same way here (the same function, :mod:`modelport.core.importance`, with the same row
choice, repeats and seeds, through the caller's predict function), so against ``permutation`` the
comparison is like with like; against ``model`` only the ranks are meaningful.

The result has each feature's importance, share of the total and rank in both, Spearman's rank
correlation over the features both know (``scipy.stats.spearmanr``) with its p-value, the features
that moved most (largest rank change, then largest change of share), and an alert when the
correlation falls below a threshold (0.5 by default). Neither Evidently nor NannyML tracks
importance shift; this follows the same fit/calculate shape as the other calculators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from modelport.core import importance as shared
from modelport.core.importance import Labels, Predict


@dataclass(frozen=True)
class ImportanceConfig:
    """How window importances are computed and when their shift alerts."""

    task: str = "classification"
    rows: int = 1000
    repeats: int = 3
    row_seed: int = 1
    shuffle_seed: int = 0
    top: int = 5
    min_correlation: float = 0.5


@dataclass(frozen=True)
class FeatureImportance:
    """One feature's importance in the reference and in the window."""

    feature: str
    reference: float
    current: float
    reference_share: float
    current_share: float
    reference_rank: int
    current_rank: int

    @property
    def rank_change(self) -> int:
        """Places moved up (positive) or down (negative) in the ranking."""
        return self.reference_rank - self.current_rank

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "reference": self.reference, "current": self.current,
                "reference_share": self.reference_share, "current_share": self.current_share,
                "reference_rank": self.reference_rank, "current_rank": self.current_rank,
                "rank_change": self.rank_change}


@dataclass(frozen=True)
class ImportanceResult:
    """How far the window's importance ranking moved from the reference's."""

    features: tuple[FeatureImportance, ...]
    correlation: float | None
    p_value: float | None
    moved: tuple[str, ...]
    threshold: float
    rows: int
    source: str

    @property
    def alert(self) -> bool:
        return self.correlation is not None and self.correlation < self.threshold

    def feature(self, name: str) -> FeatureImportance:
        for result in self.features:
            if result.feature == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rows": self.rows, "correlation": self.correlation,
                "p_value": self.p_value, "threshold": self.threshold, "alert": self.alert,
                "moved": list(self.moved), "features": [f.to_dict() for f in self.features]}


def permutation_importances(predict: Predict, inputs: pd.DataFrame, target: Labels,
                            config: ImportanceConfig, columns: Sequence[str] | None = None
                            ) -> dict[str, float]:
    """Mean drop in accuracy or R² when each of ``columns`` (default: all) is shuffled."""
    return shared.permutation_importances(predict, inputs, target, task=config.task, rows=config.rows,
                                          repeats=config.repeats, row_seed=config.row_seed,
                                          shuffle_seed=config.shuffle_seed, columns=columns)


def _shares(values: np.ndarray) -> np.ndarray:
    positive = np.clip(values, 0.0, None)
    total = positive.sum()
    return positive / total if total > 0 else np.zeros_like(values)


def compare(reference: Mapping[str, float], current: Mapping[str, float], *, top: int, threshold: float,
            rows: int, source: str) -> ImportanceResult:
    """Rank both importance sets over the features they share and say how far they moved."""
    names = [name for name in reference if name in current]
    ref = np.array([reference[n] for n in names], dtype=np.float64)
    cur = np.array([current[n] for n in names], dtype=np.float64)
    ref_rank = stats.rankdata(-ref, method="min").astype(int)
    cur_rank = stats.rankdata(-cur, method="min").astype(int)
    ref_share, cur_share = _shares(ref), _shares(cur)
    features = tuple(FeatureImportance(n, float(ref[i]), float(cur[i]), float(ref_share[i]),
                                       float(cur_share[i]), int(ref_rank[i]), int(cur_rank[i]))
                     for i, n in enumerate(names))
    correlation = p_value = None
    if len(names) >= 3 and np.ptp(ref) > 0 and np.ptp(cur) > 0:
        result = stats.spearmanr(ref, cur)
        correlation, p_value = float(result.statistic), float(result.pvalue)
    order = sorted(features, key=lambda f: (abs(f.rank_change), abs(f.current_share - f.reference_share)),
                   reverse=True)
    moved = tuple(f.feature for f in order[:top]
                  if f.rank_change != 0 or f.current_share != f.reference_share)
    return ImportanceResult(features, correlation, p_value, moved, threshold, rows, source)


class ImportanceShiftCalculator:
    """``fit(reference importances)`` then ``calculate(inputs, target)`` → :class:`ImportanceResult`."""

    def __init__(self, predict: Predict, config: ImportanceConfig | None = None) -> None:
        self.predict = predict
        self.config = config or ImportanceConfig()

    def fit(self, importances: Mapping[str, Any], source: str = "permutation") -> ImportanceShiftCalculator:
        """Take the reference importances: a flat ``{feature: value}``, or the artifact's
        ``importances.json`` (``{"model": {...}, "permutation": {...}}``), read at ``source``."""
        nested = any(isinstance(v, Mapping) for v in importances.values())
        chosen = importances.get(source) if nested else importances
        if not chosen:
            raise ValueError(f"no {source!r} importances in the reference")
        self.reference_ = {str(k): float(v) for k, v in chosen.items()}
        self.source_ = source
        return self

    def calculate(self, inputs: pd.DataFrame, target: Labels) -> ImportanceResult:
        """Permutation importances of the window's labelled rows, compared with the reference's."""
        truth = pd.Series(np.asarray(target))
        labelled = truth.notna().to_numpy()
        x = inputs.reset_index(drop=True).iloc[np.flatnonzero(labelled)]
        y = truth[labelled].to_numpy()
        if self.config.task == "regression":
            y = y.astype(np.float64)
        columns = [name for name in self.reference_ if name in x.columns]
        current = permutation_importances(self.predict, x, y, self.config, columns)
        return compare(self.reference_, current, top=self.config.top,
                       threshold=self.config.min_correlation, rows=min(len(x), self.config.rows),
                       source=self.source_)
