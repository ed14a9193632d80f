"""A/B statistics: per-arm means with intervals, lift, p-values, the sample still needed, and a verdict
that never calls a winner early.

The first arm is the control; every other arm is compared with it. Outcomes that are all 0/1 (or
booleans) are conversions, tested with the pooled two-proportion z-test (its square is the Pearson
chi-square of the 2x2 table); per-arm intervals are Wilson score intervals, the interval of the
difference is the unpooled Wald interval. Other outcomes are numeric, tested with Welch's t-test
(``scipy.stats.ttest_ind(equal_var=False)``), with Student-t intervals.

The sample size per arm is planned for a two-sided test at ``alpha`` (divided among the comparisons
when there are more than two arms: Bonferroni) with ``power`` to detect ``min_effect`` (relative to
the control's mean by default: 0.05 is a 5 % lift), from the control's observed rate or variance
unless ``planned_per_arm`` fixes it up front (better: a plan that moves with the data invites
peeking). Until every arm has that many outcomes the conclusion says it is too early, whatever the
p-value: stopping at the first significant peek inflates false winners many times over.

The unit of analysis is the outcome: when one user sends many requests their outcomes correlate
and the p-values are too small; post one outcome per user (the sticky key) where that matters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["ABResult", "ArmSummary", "Comparison", "analyze", "arm_outcomes", "required_per_arm"]

CONVERSION = "conversion"
NUMERIC = "numeric"
#: below this p-value the arms' sizes do not match the split: assignment is broken
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class ArmSummary:
    name: str
    n: int
    mean: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n": self.n, "mean": self.mean, "ci_low": self.ci_low,
                "ci_high": self.ci_high}


@dataclass(frozen=True)
class Comparison:
    """One arm against the control."""

    arm: str
    control: str
    difference: float
    ci_low: float
    ci_high: float
    #: the difference relative to the control's mean; None when that mean is zero
    lift: float | None
    statistic: float
    p_value: float
    test: str

    def to_dict(self) -> dict[str, Any]:
        return {"arm": self.arm, "control": self.control, "difference": self.difference,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "lift": self.lift,
                "statistic": self.statistic, "p_value": self.p_value, "test": self.test}


@dataclass(frozen=True)
class ABResult:
    kind: str
    arms: tuple[ArmSummary, ...]
    comparisons: tuple[Comparison, ...]
    alpha: float
    power: float
    min_effect: float
    relative: bool
    #: outcomes each arm needs; None when it cannot be planned yet (too few or constant outcomes)
    required_per_arm: int | None
    #: outcomes still to collect on the smallest arm; None when not plannable
    still_needed: int | None
    #: every arm has its planned sample: only then may a winner be named
    complete: bool
    winner: str | None
    #: p-value of the arms' sizes against the split (sample ratio mismatch); None without a split
    sample_ratio_p: float | None
    conclusion: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "arms": [a.to_dict() for a in self.arms],
                "comparisons": [c.to_dict() for c in self.comparisons], "alpha": self.alpha,
                "power": self.power, "min_effect": self.min_effect, "relative": self.relative,
                "required_per_arm": self.required_per_arm, "still_needed": self.still_needed,
                "complete": self.complete, "winner": self.winner, "sample_ratio_p": self.sample_ratio_p,
                "conclusion": self.conclusion}


def _is_conversion(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def _wilson(successes: float, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _summary(name: str, values: np.ndarray, kind: str, alpha: float) -> ArmSummary:
    n = len(values)
    mean = float(values.mean())
    if kind == CONVERSION:
        low, high = _wilson(float(values.sum()), n, float(stats.norm.ppf(1 - alpha / 2)))
    elif n > 1:
        half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
        low, high = mean - half, mean + half
    else:
        low, high = -math.inf, math.inf
    return ArmSummary(name, n, mean, low, high)


def _z_test(control: np.ndarray, arm: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    n1, n2 = len(control), len(arm)
    p1, p2 = float(control.mean()), float(arm.mean())
    pooled = (control.sum() + arm.sum()) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se if se > 0 else 0.0
    half = float(stats.norm.ppf(1 - alpha / 2)) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return z, float(2 * stats.norm.sf(abs(z))), p2 - p1 - half, p2 - p1 + half


def _welch(control: np.ndarray, arm: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    n1, n2 = len(control), len(arm)
    v1, v2 = float(control.var(ddof=1)) / n1, float(arm.var(ddof=1)) / n2
    difference = float(arm.mean() - control.mean())
    se = math.sqrt(v1 + v2)
    if se == 0:
        return 0.0, 1.0, difference, difference
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    t = difference / se
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return t, float(2 * stats.t.sf(abs(t), df)), difference - half, difference + half


def required_per_arm(kind: str, control_mean: float, control_std: float, *, alpha: float, power: float,
                     min_effect: float, relative: bool = True) -> int | None:
    """Outcomes per arm for a two-sided test at ``alpha`` to detect ``min_effect`` with ``power``.

    Conversions: the normal approximation without continuity correction (Fleiss), from the control's
    rate ``p1`` and ``p2 = p1 * (1 + effect)`` (or ``p1 + effect``). Numeric: ``2 (z_a + z_b)^2
    sigma^2 / delta^2`` with the control's standard deviation. None when no effect can be set up.
    """
    delta = min_effect * abs(control_mean) if relative else min_effect
    if delta <= 0:
        return None
    z_alpha = float(stats.norm.ppf(1 - alpha / 2))
    z_beta = float(stats.norm.ppf(power))
    if kind == CONVERSION:
        p1, p2 = control_mean, control_mean + delta
        if not 0.0 < p1 < 1.0 or not 0.0 < p2 < 1.0:
            return None
        mean = (p1 + p2) / 2
        root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
        return math.ceil(root**2 / delta**2)
    if control_std <= 0:
        return None
    return math.ceil(2 * (z_alpha + z_beta) ** 2 * control_std**2 / delta**2)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def _describe(c: Comparison, arms: Mapping[str, ArmSummary], kind: str) -> str:
    def shown(mean: float) -> str:
        return f"{mean:.2%}" if kind == CONVERSION else f"{mean:.4g}"
    return (f"{c.arm} {shown(arms[c.arm].mean)} vs {c.control} {shown(arms[c.control].mean)} "
            f"(lift {_percent(c.lift)}, difference {c.difference:+.4g} "
            f"[{c.ci_low:+.4g}, {c.ci_high:+.4g}], p = {c.p_value:.3g})")


def _conclude(result: dict[str, Any], arms: Mapping[str, ArmSummary], comparisons: Sequence[Comparison],
              threshold: float) -> tuple[str | None, str]:
    kind, effect = result["kind"], result["min_effect"]
    effect_text = f"{effect:.1%} relative" if result["relative"] else f"{effect:g} absolute"
    so_far = "; ".join(_describe(c, arms, kind) for c in comparisons)
    warning = ""
    if result["sample_ratio_p"] is not None and result["sample_ratio_p"] < SRM_ALPHA:
        warning = (f" Warning: the arms' sizes do not match the split (sample ratio mismatch, "
                   f"p = {result['sample_ratio_p']:.2g}); assignment may be broken, do not trust this test.")
    if result["required_per_arm"] is None:
        return None, (f"Too early to call: the sample size cannot be planned yet (the control's outcomes "
                      f"are too few or all equal). So far: {so_far}.{warning}")
    if not result["complete"]:
        smallest = min(arms.values(), key=lambda a: a.n)
        return None, (f"Too early to call: {smallest.name} has {smallest.n} of the "
                      f"{result['required_per_arm']} outcomes per arm planned to detect a {effect_text} "
                      f"change with {result['power']:.0%} power ({result['still_needed']} more). "
                      f"So far: {so_far}. Do not stop the test on "
                      f"this.{warning}")
    better = [c for c in comparisons if c.p_value < threshold and c.difference > 0]
    worse = [c for c in comparisons if c.p_value < threshold and c.difference < 0]
    if better:
        best = max(better, key=lambda c: arms[c.arm].mean)
        return best.arm, f"{best.arm} beats {best.control}: {_describe(best, arms, kind)}.{warning}"
    if worse and len(worse) == len(comparisons):
        control = comparisons[0].control
        return control, f"{control} beats every other arm: {so_far}.{warning}"
    if worse:
        return None, f"No arm beats {comparisons[0].control} at the planned sample size: {so_far}.{warning}"
    return None, (f"No significant difference at the planned sample size: {so_far}. A real effect, if "
                  f"any, is probably smaller than {effect_text}.{warning}")


def analyze(outcomes: Mapping[str, Sequence[float] | np.ndarray], *, kind: str | None = None,
            alpha: float = 0.05, power: float = 0.8, min_effect: float = 0.05, relative: bool = True,
            planned_per_arm: int | None = None, split: Sequence[float] | None = None) -> ABResult:
    """Compare every arm of ``outcomes`` (arm name → outcome values; the first is the control) with
    the control. ``kind``: ``"conversion"`` or ``"numeric"`` (None: conversion when all are 0/1).
    ``split``: the planned percents per arm, to check the arms' sizes against."""
    if len(outcomes) < 2:
        raise ValueError(f"an A/B analysis needs at least two arms, got {len(outcomes)}")
    data = {name: np.asarray(values, dtype=float) for name, values in outcomes.items()}
    short = [name for name, values in data.items() if len(values) < 2]
    if short:
        raise ValueError(f"every arm needs at least two outcomes; {', '.join(short)} has fewer")
    if kind is None:
        kind = CONVERSION if all(_is_conversion(v) for v in data.values()) else NUMERIC
    if kind not in (CONVERSION, NUMERIC):
        raise ValueError(f"kind must be {CONVERSION!r} or {NUMERIC!r}, got {kind!r}")
    threshold = alpha / (len(data) - 1)
    names = list(data)
    control = data[names[0]]
    arms = {name: _summary(name, values, kind, alpha) for name, values in data.items()}
    comparisons = []
    for name in names[1:]:
        test = _z_test if kind == CONVERSION else _welch
        statistic, p_value, low, high = test(control, data[name], alpha)
        difference = float(data[name].mean() - control.mean())
        lift = difference / float(control.mean()) if control.mean() != 0 else None
        comparisons.append(Comparison(name, names[0], difference, low, high, lift, statistic, p_value,
                                      "two_proportion_z" if kind == CONVERSION else "welch_t"))
    required = planned_per_arm if planned_per_arm is not None else required_per_arm(
        kind, float(control.mean()), float(control.std(ddof=1)), alpha=threshold, power=power,
        min_effect=min_effect, relative=relative)
    smallest = min(len(values) for values in data.values())
    ratio = None
    if split is not None:
        counts = np.array([len(v) for v in data.values()], dtype=float)
        expected = counts.sum() * np.asarray(split, dtype=float) / float(np.sum(split))
        ratio = float(stats.chisquare(counts, expected).pvalue)
    fields: dict[str, Any] = {
        "kind": kind, "alpha": alpha, "power": power, "min_effect": min_effect, "relative": relative,
        "required_per_arm": required,
        "still_needed": None if required is None else max(0, required - smallest),
        "complete": required is not None and smallest >= required, "sample_ratio_p": ratio}
    winner, conclusion = _conclude(fields, arms, comparisons, threshold)
    return ABResult(arms=tuple(arms.values()), comparisons=tuple(comparisons), winner=winner,
                    conclusion=conclusion, **fields)


def arm_outcomes(frame: pd.DataFrame, arms: Mapping[str, str], *, column: str = "outcome"
                 ) -> dict[str, np.ndarray]:
    """Each arm's outcome values (booleans as 0/1) from a ``joined`` log frame; ``arms`` maps an arm's
    name to its ``model:version`` label. Rows without an outcome are left out."""
    label = frame["model"].astype(str) + ":" + frame["version"].astype(str)
    found = {}
    for name, version in arms.items():
        values = frame.loc[(label == version) & (frame["role"] != "shadow") & frame[column].notna(), column]
        found[name] = np.asarray([float(v) for v in values], dtype=float)
    return found
