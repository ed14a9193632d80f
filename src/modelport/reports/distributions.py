"""Shares of one column in the reference and in recent rows, over shared bins, for the report's plots.

Numerical columns get equal-width bins over both samples' finite values together (so a shift
outside the reference's range stays visible); categorical ones their levels, most common in the
reference first, with a missing value as the level ``(missing)`` and the rarest pooled as ``(other)``.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from modelport.monitoring.stats import NUMERICAL, category_counts
from modelport.reports.results import Distribution

BINS = 20
MAX_LEVELS = 20
MISSING = "(missing)"
OTHER = "(other)"


def _numbers(values: pd.Series) -> np.ndarray:
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(array[np.isfinite(array)], dtype=np.float64)


def _shares(counts: np.ndarray) -> tuple[float, ...]:
    total = counts.sum()
    return tuple(float(c / total) if total else 0.0 for c in counts)


def numerical(name: str, reference: pd.Series, current: pd.Series, label: str) -> Distribution | None:
    ref, cur = _numbers(reference), _numbers(current)
    if not ref.size or not cur.size:
        return None
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=BINS)
    names = tuple(f"{lo:.4g} to {hi:.4g}" for lo, hi in pairwise(edges.tolist()))
    return Distribution(name, NUMERICAL, names, _shares(np.histogram(ref, edges)[0]),
                        _shares(np.histogram(cur, edges)[0]), label)


def categorical(name: str, reference: pd.Series, current: pd.Series, label: str) -> Distribution:
    ref, cur = category_counts(reference), category_counts(current)
    levels = sorted(set(ref) | set(cur), key=lambda level: (-ref.get(level, 0), -cur.get(level, 0),
                                                             str(level)))
    kept, pooled = levels[:MAX_LEVELS - 1], levels[MAX_LEVELS - 1:]
    if len(pooled) == 1:
        kept, pooled = levels, []
    names = [MISSING if level is None else str(level) for level in kept]
    ref_counts = [ref.get(level, 0) for level in kept]
    cur_counts = [cur.get(level, 0) for level in kept]
    if pooled:
        names.append(OTHER)
        ref_counts.append(sum(ref.get(level, 0) for level in pooled))
        cur_counts.append(sum(cur.get(level, 0) for level in pooled))
    return Distribution(name, "categorical", tuple(names), _shares(np.array(ref_counts)),
                        _shares(np.array(cur_counts)), label)


def distribution(name: str, kind: str, reference: pd.Series, current: pd.Series,
                 label: str) -> Distribution | None:
    """The column's shares in both samples, None when one of them has no value to bin."""
    if kind == NUMERICAL:
        return numerical(name, reference, current, label)
    return categorical(name, reference, current, label)
