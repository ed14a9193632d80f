"""Compare a shadow with the primary it copied: agreement, score differences, where they diverge, latency.

Each shadow row is linked to the primary row whose request it copied: its ``link`` column
(``primary_id`` by default) holds that primary prediction's id. Only pairs where both answered
(status below 400) are compared; primary rows without a shadow answer (the shadow queue was full,
or the shadow failed) are counted apart.

Agreement: equal predicted labels, or numeric predictions within ``tolerance``. Score difference:
for classifiers the largest absolute difference over the class probabilities (``proba.*``), for
regressors the absolute difference of the predictions. Segments: each input feature (of the
primary's logged inputs) split into quantile bins (numeric, with more distinct values than bins) or
levels (the most frequent ones, the rest as ``other``; missing values as ``missing``), ranked by how
often the two disagree there, so the first rows say where the shadow differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelport.promotion.window import version_label

__all__ = ["LINK", "LatencySummary", "Segment", "ShadowComparison", "compare_shadow", "shadow_versions",
           "split_roles"]

#: the shadow row's column that holds the id of the primary prediction it copied
LINK = "primary_id"
INPUT = "input."
PROBA = "proba."
MISSING = "missing"
OTHER = "other"


@dataclass(frozen=True)
class LatencySummary:
    n: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @classmethod
    def of(cls, values: np.ndarray) -> LatencySummary:
        if not len(values):
            return cls(0, None, None, None, None)
        p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99]))
        return cls(len(values), float(values.mean()), p50, p95, p99)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean_ms": self.mean_ms, "p50_ms": self.p50_ms, "p95_ms": self.p95_ms,
                "p99_ms": self.p99_ms}


@dataclass(frozen=True)
class Segment:
    """One feature's bin or level, and how the shadow and the primary differ there."""

    feature: str
    segment: str
    rows: int
    disagreement: float
    mean_difference: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "segment": self.segment, "rows": self.rows,
                "disagreement": self.disagreement, "mean_difference": self.mean_difference}


@dataclass(frozen=True)
class ShadowComparison:
    #: pairs where both answered
    pairs: int
    #: primary answers with no shadow answer logged (dropped from a full queue, or not flushed yet)
    missing_shadow: int
    #: shadow answers that failed (status 400 or above)
    shadow_failures: int
    agreement: float | None
    mean_difference: float | None
    max_difference: float | None
    primary_latency: LatencySummary
    shadow_latency: LatencySummary
    #: ranked by disagreement, most first
    segments: tuple[Segment, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"pairs": self.pairs, "missing_shadow": self.missing_shadow,
                "shadow_failures": self.shadow_failures, "agreement": self.agreement,
                "mean_difference": self.mean_difference, "max_difference": self.max_difference,
                "primary_latency": self.primary_latency.to_dict(),
                "shadow_latency": self.shadow_latency.to_dict(),
                "segments": [s.to_dict() for s in self.segments]}


def split_roles(frame: pd.DataFrame, shadow: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From a log frame: the rows that answered callers, and the rows of the shadow ``model:version``."""
    label = frame["model"].astype(str) + ":" + frame["version"].astype(str)
    is_shadow = frame["role"] == "shadow"
    return frame[~is_shadow], frame[is_shadow & (label == shadow)]


def _names(frame: pd.DataFrame) -> list[str]:
    return [str(column) for column in frame.columns]


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _differences(pairs: pd.DataFrame, tolerance: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Per pair: whether the two agree, and the score difference (None when there is no score)."""
    names = _names(pairs)
    probas = [c for c in names if c.startswith(PROBA) and c.endswith("_p") and c[:-2] + "_s" in names]
    ours, theirs = pairs["prediction_p"], pairs["prediction_s"]
    numeric = _numeric(ours) and _numeric(theirs)
    if numeric:
        gap = np.abs(ours.to_numpy(float) - theirs.to_numpy(float))
        agree = gap <= tolerance
    else:
        agree = (ours.astype(str) == theirs.astype(str)).to_numpy()
    if probas:
        matrix = np.column_stack([np.abs(pairs[c].to_numpy(float) - pairs[c[:-2] + "_s"].to_numpy(float))
                                  for c in probas])
        return agree, np.nanmax(matrix, axis=1)
    return agree, gap if numeric else None


def _bins(values: pd.Series, bins: int, levels: int) -> pd.Series:
    """Each row's segment of one feature, as text."""
    if _numeric(values) and values.nunique() > bins:
        cut = pd.qcut(values, q=bins, duplicates="drop")
        return cut.astype(str).where(values.notna(), MISSING)
    text = values.astype(str).where(values.notna(), MISSING)
    keep = set(text.value_counts().index[:levels])
    return text.where(text.isin(keep), OTHER)


def _segments(pairs: pd.DataFrame, agree: np.ndarray, difference: np.ndarray | None, *, bins: int,
              levels: int, min_rows: int) -> list[Segment]:
    found = []
    frame = pd.DataFrame({"disagree": ~agree, "difference": difference if difference is not None else np.nan})
    for column in sorted(c for c in _names(pairs) if c.startswith(INPUT) and c.endswith("_p")):
        feature = column[len(INPUT):-2]
        groups = frame.groupby(_bins(pairs[column], bins, levels).to_numpy(), sort=True)
        for segment, group in groups:
            if len(group) < min_rows:
                continue
            mean = group["difference"].mean() if difference is not None else None
            found.append(Segment(feature, str(segment), len(group), float(group["disagree"].mean()),
                                 None if mean is None or pd.isna(mean) else float(mean)))
    found.sort(key=lambda s: (-s.disagreement, -(s.mean_difference or 0.0), -s.rows, s.feature, s.segment))
    return found


def _side(rows: pd.DataFrame, key: str, suffix: str, *, inputs: bool) -> pd.DataFrame:
    """The columns one side brings to a pair, each name ending in ``suffix``."""
    names = _names(rows)
    columns = [key, "prediction", "latency_ms", *(c for c in names if c.startswith(PROBA)),
               *(c for c in names if inputs and c.startswith(INPUT))]
    return rows[[c for c in columns if c in rows]].add_suffix(suffix)


def compare_shadow(primary: pd.DataFrame, shadow: pd.DataFrame, *, link: str = LINK,
                   tolerance: float = 1e-6, bins: int = 4, levels: int = 10, min_rows: int = 30,
                   top: int | None = 20) -> ShadowComparison:
    """Compare ``shadow`` rows with the ``primary`` rows they copied (log frames: ``id``, ``status``,
    ``latency_ms``, ``prediction``, ``proba.*``, ``input.*``; the shadow's ``link`` names the primary id).

    ``bins``: quantile bins per numeric feature; ``levels``: categorical levels kept before ``other``;
    segments with fewer than ``min_rows`` pairs are left out, and only the ``top`` are kept.
    """
    if link not in shadow:
        raise ValueError(f"the shadow rows have no {link!r} column linking them to the primary's ids")
    answered = primary[primary["status"] < 400]
    copies = shadow.drop_duplicates(subset=[link], keep="last")
    failed = copies["status"] >= 400
    ours = _side(answered, "id", "_p", inputs=True)
    theirs = _side(copies[~failed], link, "_s", inputs=False)
    pairs = ours.merge(theirs, left_on="id_p", right_on=f"{link}_s")
    missing = int((~answered["id"].isin(copies[link])).sum())
    agree, difference = _differences(pairs, tolerance) if len(pairs) else (np.zeros(0, bool), None)
    segments = _segments(pairs, agree, difference, bins=bins, levels=levels, min_rows=min_rows)
    scored = difference if difference is not None and len(difference) else None
    latency = {side: pairs[f"latency_ms{side}"].to_numpy(float) if len(pairs) else np.zeros(0)
               for side in ("_p", "_s")}
    return ShadowComparison(
        pairs=len(pairs), missing_shadow=missing, shadow_failures=int(failed.sum()),
        agreement=float(agree.mean()) if len(pairs) else None,
        mean_difference=None if scored is None else float(np.nanmean(scored)),
        max_difference=None if scored is None else float(np.nanmax(scored)),
        primary_latency=LatencySummary.of(latency["_p"]), shadow_latency=LatencySummary.of(latency["_s"]),
        segments=tuple(segments[:top] if top is not None else segments))


def shadow_versions(frame: pd.DataFrame) -> Sequence[str]:
    """The ``model:version`` of every shadow in a log frame."""
    rows = frame[frame["role"] == "shadow"]
    pairs = zip(rows["model"], rows["version"], strict=True)
    return sorted({version_label(str(model), str(version)) for model, version in pairs})
