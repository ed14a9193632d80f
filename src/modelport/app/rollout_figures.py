"""Rollout figures from the prediction log: where promotion's statistics meet the report's section.

Reads one endpoint's rows (every model folder of the log can hold them: a shadow or an arm may be
another model), compares each shadow with the rows that answered the callers it copied, and
summarises each served version when canaries or A/B arms ran. Promotion computes, reports renders;
only this composition layer may import both.

A shadow is compared from the moment it started: the primary rows before the first one it copied
were never offered to it, so they do not count as lost copies. Shadow rows without a ``primary_id``
(logged by a writer that did not link them) cannot be paired and are left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelport.predictions import joined
from modelport.predictions.reader import TimeLike
from modelport.promotion import LINK, compare_shadow, shadow_versions, split_roles, window_statistics
from modelport.promotion.window import SERVED_ROLES
from modelport.reports.rollout import RolloutSection, ShadowSection, VersionRow

__all__ = ["endpoint_log", "rollout_section", "shadow_sections", "version_rows"]

#: roles that mean more than one version answered on purpose
TRIAL_ROLES = ("canary", "arm")
#: prediction bins of a numeric output
NUMERIC_BINS = 10
#: labels shown by name before the rest go to ``other``
LEVELS = 20


def endpoint_log(root: Path, endpoint: str, since: TimeLike | None = None,
                 until: TimeLike | None = None) -> pd.DataFrame:
    """Every row logged for ``endpoint`` in ``[since, until)``, joined with its feedback, in time order."""
    models = sorted(folder.name.removeprefix("model=") for folder in root.glob("model=*") if folder.is_dir())
    frames = [frame[frame["endpoint"].astype(str) == endpoint]
              for frame in (joined(root, model, since, until) for model in models)]
    found = [frame for frame in frames if len(frame)]
    if not found:
        return joined(root, endpoint, since, until).iloc[:0]
    merged = pd.concat(found, ignore_index=True) if len(found) > 1 else found[0].reset_index(drop=True)
    return merged.sort_values("time", kind="stable").reset_index(drop=True)


def _endpoints(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    names = frame["endpoint"] if "endpoint" in frame else frame["model"]
    return {str(name): rows for name, rows in frame.groupby(names.astype(str), sort=True)}


def _labels(frame: pd.DataFrame) -> pd.Series:
    return frame["model"].astype(str) + ":" + frame["version"].astype(str)


def _since_first_copy(primary: pd.DataFrame, shadow: pd.DataFrame) -> pd.DataFrame:
    if "time" not in primary or LINK not in shadow:
        return primary
    copied = primary["id"].isin(shadow[LINK])
    if not copied.any():
        return primary
    started: pd.DataFrame = primary[primary["time"] >= primary.loc[copied, "time"].min()]
    return started


def shadow_sections(frame: pd.DataFrame, *, min_rows: int = 30, top: int | None = 20
                    ) -> tuple[ShadowSection, ...]:
    """Each shadow of each endpoint in ``frame`` compared with the primary rows it copied."""
    if "role" not in frame:
        return ()
    found = []
    for endpoint, rows in _endpoints(frame).items():
        for shadow in shadow_versions(rows):
            primary, copies = split_roles(rows, shadow)
            if LINK not in copies:
                continue
            copies = copies[copies[LINK].notna()]
            if copies.empty:
                continue
            primary = _since_first_copy(primary, copies)
            comparison = compare_shadow(primary, copies, min_rows=min_rows, top=top)
            found.append(ShadowSection(endpoint, shadow, tuple(sorted(set(_labels(primary)))), comparison))
    return tuple(found)


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
               for v in values)


def _bins(predictions: dict[str, tuple[Any, ...]]) -> tuple[tuple[str, ...], dict[str, tuple[float, ...]]]:
    """Shared bins of every version's predictions, and each version's share in each bin."""
    pooled = [v for values in predictions.values() for v in values]
    if pooled and _numeric(pooled) and len(set(pooled)) > NUMERIC_BINS:
        edges = np.histogram_bin_edges(np.asarray(pooled, dtype=float), bins=NUMERIC_BINS)
        names = tuple(f"[{lo:.4g}, {hi:.4g}{']' if i == NUMERIC_BINS - 1 else ')'}"
                      for i, (lo, hi) in enumerate(itertools.pairwise(edges)))
        counts = {version: np.histogram(np.asarray(values, dtype=float), bins=edges)[0]
                  for version, values in predictions.items()}
    else:
        ranked = pd.Series([str(v) for v in pooled], dtype=object).value_counts()
        kept = sorted(ranked.index[:LEVELS].tolist())
        names = (*kept, "other") if len(ranked) > LEVELS else tuple(kept)
        counts = {}
        for version, values in predictions.items():
            text = pd.Series([str(v) for v in values], dtype=object)
            text = text.where(text.isin(kept), "other")
            counts[version] = np.asarray([int((text == name).sum()) for name in names])
    shares = {version: tuple(float(c) / max(int(found.sum()), 1) for c in found)
              for version, found in counts.items()}
    return names, shares


def version_rows(frame: pd.DataFrame) -> tuple[VersionRow, ...]:
    """Each version that answered callers, for every endpoint where canaries or A/B arms ran."""
    if "role" not in frame:
        return ()
    found = []
    for endpoint, rows in _endpoints(frame).items():
        if not rows["role"].isin(list(TRIAL_ROLES)).any():
            continue
        stats = window_statistics(rows)
        if len(stats) < 2:
            continue
        served = rows[rows["role"].isin(list(SERVED_ROLES))]
        labels = _labels(served)
        names, shares = _bins({version: s.predictions for version, s in stats.items()})
        for version, s in stats.items():
            mine = served[labels == version]
            p50 = float(np.percentile(s.latencies, 50)) if s.latencies else None
            found.append(VersionRow(
                endpoint, version, tuple(sorted(set(mine["role"].astype(str)))), s.requests, s.errors,
                s.error_rate, p50, s.p99_ms, names, shares[version]))
    return tuple(found)


def rollout_section(frame: pd.DataFrame, *, min_rows: int = 30) -> RolloutSection | None:
    """The report's rollout section of a log frame; None when it logged no shadow, canary or arm."""
    shadows = shadow_sections(frame, min_rows=min_rows)
    versions = version_rows(frame)
    if not shadows and not versions:
        return None
    return RolloutSection(shadows, versions)
