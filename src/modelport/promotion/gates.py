"""Judge one canary step: its gates compare the canary with the primary on the same window.

Each gate passes, fails, or is inconclusive; the step fails when any gate fails, waits when any is
inconclusive, and passes only when every gate passes. Nothing passes or fails on missing data:
below ``min_requests`` on either side every gate is inconclusive.

- ``error_rate`` is an operational threshold, compared as measured: the canary's share of 5xx
  responses against ``max_error_rate``.
- ``p99_ratio``: the canary's p99 latency over the primary's against ``max_p99_ratio``. The p99 of a
  few hundred requests is nearly their slowest one, so a ratio above the maximum fails only when
  it is beyond noise: when the canary's p99 lower confidence bound over the primary's upper one is
  still above the maximum (distribution-free bounds: order statistics picked by the binomial
  distribution of how many requests fall below the true p99). Above the maximum but within noise
  the gate is inconclusive and the step waits for more requests. Without the latencies (statistics
  built by hand) the ratio is compared as measured.
- ``disagreement`` and ``metric`` compare samples, so they fail only on evidence, never on noise:
  the canary is rolled back only when the difference is beyond the threshold with the gates'
  ``confidence`` (95 % by default).

  ``disagreement``: for numeric predictions the Kolmogorov-Smirnov distance between the two
  distributions (the largest gap between their cumulative shares), for labels the total variation
  distance (the share of predictions that would have to change label); both lie in [0, 1]. Its
  lower confidence bound subtracts each sample's worst-case error: the Dvoretzky-Kiefer-Wolfowitz
  bound ``sqrt(ln(4 / alpha) / 2n)`` for a distribution function, and Weissman et al.'s bound
  ``sqrt(2 ln((2^k - 2) * 2 / alpha) / n) / 2`` for k label shares.

  ``metric``: the canary's mean outcome against the rule's bound (``baseline`` is the primary's mean
  on the same window); it fails when a one-sided z-test says the canary misses the bound, that is
  when the upper (``>=``) or lower (``<=``) confidence bound of canary minus bound is on the wrong
  side of zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from numbers import Real
from typing import Any

import numpy as np
from scipy import stats

from modelport.promotion.window import WindowStats
from modelport.rollout.gates import Gates, MetricGate

__all__ = ["GateResult", "Outcome", "disagreement", "judge", "overall"]


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class GateResult:
    """One gate on one window: what it measured, against what, and the plain-language why."""

    gate: str
    outcome: Outcome
    #: what was measured (a rate, a ratio, a distance, a mean); None when it could not be
    value: float | None
    threshold: float | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "outcome": str(self.outcome), "value": self.value,
                "threshold": self.threshold, "detail": self.detail}


def overall(results: Sequence[GateResult]) -> Outcome:
    """Fail when any gate fails, inconclusive when any is, pass when all pass."""
    outcomes = {result.outcome for result in results}
    if Outcome.FAIL in outcomes:
        return Outcome.FAIL
    return Outcome.INCONCLUSIVE if Outcome.INCONCLUSIVE in outcomes else Outcome.PASS


def _traffic(gates: Gates, primary: WindowStats, canary: WindowStats) -> GateResult | None:
    short = [f"{side} has {stats.requests}" for side, stats in (("canary", canary), ("primary", primary))
             if stats.requests < gates.min_requests]
    if not short:
        return None
    return GateResult("min_requests", Outcome.INCONCLUSIVE, float(min(primary.requests, canary.requests)),
                      float(gates.min_requests),
                      f"inconclusive: {' and '.join(short)} of the {gates.min_requests} requests needed")


def _error_rate(gates: Gates, primary: WindowStats, canary: WindowStats) -> GateResult:
    rate = canary.errors / canary.requests
    primary_rate = primary.errors / primary.requests
    outcome = Outcome.FAIL if rate > gates.max_error_rate else Outcome.PASS
    return GateResult("error_rate", outcome, rate, gates.max_error_rate,
                      f"canary error rate {rate:.2%} ({canary.errors}/{canary.requests}) "
                      f"{'above' if outcome is Outcome.FAIL else 'within'} the maximum "
                      f"{gates.max_error_rate:.2%}; primary {primary_rate:.2%} "
                      f"({primary.errors}/{primary.requests})")


def _p99_ratio(gates: Gates, primary: WindowStats, canary: WindowStats) -> GateResult:
    if primary.p99_ms is None or canary.p99_ms is None:
        return GateResult("p99_ratio", Outcome.INCONCLUSIVE, None, gates.max_p99_ratio, "no latencies")
    ratio = _ratio(canary.p99_ms, primary.p99_ms)
    measured = (f"canary p99 {canary.p99_ms:.1f} ms is {ratio:.2f}x the primary's {primary.p99_ms:.1f} ms")
    if ratio <= gates.max_p99_ratio:
        return GateResult("p99_ratio", Outcome.PASS, ratio, gates.max_p99_ratio,
                          f"{measured} (within the maximum {gates.max_p99_ratio:g}x)")
    if not canary.latencies or not primary.latencies:
        return GateResult("p99_ratio", Outcome.FAIL, ratio, gates.max_p99_ratio,
                          f"{measured} (above the maximum {gates.max_p99_ratio:g}x)")
    low = _ratio(quantile_bounds(canary.latencies, 0.99, gates.confidence)[0],
                 quantile_bounds(primary.latencies, 0.99, gates.confidence)[1])
    if low > gates.max_p99_ratio:
        return GateResult("p99_ratio", Outcome.FAIL, ratio, gates.max_p99_ratio,
                          f"{measured}, at least {low:.2f}x with {gates.confidence:.0%} confidence "
                          f"(above the maximum {gates.max_p99_ratio:g}x)")
    return GateResult("p99_ratio", Outcome.INCONCLUSIVE, ratio, gates.max_p99_ratio,
                      f"{measured}, above the maximum {gates.max_p99_ratio:g}x but within noise (at least "
                      f"{low:.2f}x with {gates.confidence:.0%} confidence): waiting for more requests")


def _ratio(numerator: float, denominator: float) -> float:
    if denominator > 0:
        return numerator / denominator
    return math.inf if numerator > 0 else 1.0


def quantile_bounds(ascending: Sequence[float], q: float, confidence: float) -> tuple[float, float]:
    """One-sided distribution-free confidence bounds (lower, upper) of the ``q`` quantile of the
    distribution ``ascending`` (sorted) was drawn from: the order statistics whose ranks are the
    binomial(n, q) quantiles at ``1 - confidence`` and ``confidence``."""
    n = len(ascending)
    alpha = 1.0 - confidence
    low = int(stats.binom.ppf(alpha, n, q))  # P(fewer than `low` of n fall below the quantile) <= alpha
    high = int(stats.binom.ppf(confidence, n, q)) + 1
    return float(ascending[min(max(low, 1), n) - 1]), float(ascending[min(max(high, 1), n) - 1])


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, Real) and not isinstance(v, bool) for v in values)


def disagreement(primary: Sequence[Any], canary: Sequence[Any], confidence: float = 0.95
                 ) -> tuple[str, float, float]:
    """How far two prediction distributions lie apart: the measure's name, the distance measured and
    its lower bound at ``confidence`` (both in [0, 1])."""
    alpha = 1.0 - confidence
    n, m = len(primary), len(canary)
    if _numeric(primary) and _numeric(canary):
        distance = float(stats.ks_2samp(np.asarray(primary, dtype=float), np.asarray(canary, dtype=float)
                                        ).statistic)
        slack = sum(math.sqrt(math.log(4.0 / alpha) / (2.0 * size)) for size in (n, m))
        return "kolmogorov_smirnov", distance, max(0.0, distance - slack)
    left = _shares(primary)
    right = _shares(canary)
    labels = set(left) | set(right)
    distance = 0.5 * sum(abs(left.get(label, 0.0) - right.get(label, 0.0)) for label in labels)
    k = max(len(labels), 2)
    log_terms = math.log(2.0**k - 2.0) + math.log(2.0 / alpha)
    slack = sum(0.5 * math.sqrt(2.0 * log_terms / size) for size in (n, m))
    return "total_variation", distance, max(0.0, distance - slack)


def _shares(values: Sequence[Any]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return {label: count / len(values) for label, count in counts.items()}


def _disagreement(gates: Gates, primary: WindowStats, canary: WindowStats, limit: float) -> GateResult:
    if min(len(primary.predictions), len(canary.predictions)) < gates.min_requests:
        return GateResult("disagreement", Outcome.INCONCLUSIVE, None, limit,
                          f"inconclusive: {len(canary.predictions)} canary and {len(primary.predictions)} "
                          f"primary predictions, {gates.min_requests} needed on each side")
    measure, distance, low = disagreement(primary.predictions, canary.predictions, gates.confidence)
    outcome = Outcome.FAIL if low > limit else Outcome.PASS
    return GateResult("disagreement", outcome, distance, limit,
                      f"{measure.replace('_', ' ')} distance {distance:.3f} between canary and primary "
                      f"predictions (at least {low:.3f} with {gates.confidence:.0%} confidence); "
                      f"{'above' if outcome is Outcome.FAIL else 'not shown above'} the maximum {limit:g}")


def _moments(values: Sequence[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.var(ddof=1)) if len(array) > 1 else 0.0


def _metric(gates: Gates, rule: MetricGate, primary: WindowStats, canary: WindowStats) -> GateResult:
    ours = canary.metrics.get(rule.name, ())
    theirs = primary.metrics.get(rule.name, ())
    counts = [len(ours)] + ([len(theirs)] if rule.relative else [])
    if min(counts) < gates.min_requests:
        return GateResult(f"metric:{rule.name}", Outcome.INCONCLUSIVE, None, None,
                          f"inconclusive: {len(ours)} canary and {len(theirs)} primary outcomes of "
                          f"{rule.name}, {gates.min_requests} needed")
    mean, variance = _moments(ours)
    base_mean, base_variance = _moments(theirs) if rule.relative else (None, 0.0)
    bound = rule.bound(base_mean)
    gap = mean - bound if rule.op == ">=" else bound - mean  # positive: the rule holds
    error = math.sqrt(variance / len(ours) + (rule.scale**2 * base_variance / len(theirs)
                                              if rule.relative else 0.0))
    upper = gap + float(stats.norm.ppf(gates.confidence)) * error
    outcome = Outcome.FAIL if upper < 0 else Outcome.PASS
    baseline = f" (primary {base_mean:.4g})" if base_mean is not None else ""
    return GateResult(f"metric:{rule.name}", outcome, mean, bound,
                      f"canary {rule.name} {mean:.4g} against the bound {bound:.4g}{baseline} of {rule}: "
                      f"{'misses it' if outcome is Outcome.FAIL else 'not shown to miss it'} with "
                      f"{gates.confidence:.0%} confidence")


def judge(gates: Gates, primary: WindowStats, canary: WindowStats) -> tuple[GateResult, ...]:
    """Every gate of ``gates`` on one window, canary against primary."""
    short = _traffic(gates, primary, canary)
    if short is not None:
        return (short,)
    results = [_error_rate(gates, primary, canary), _p99_ratio(gates, primary, canary)]
    if gates.max_disagreement is not None:
        results.append(_disagreement(gates, primary, canary, gates.max_disagreement))
    if gates.metric is not None:
        results.append(_metric(gates, gates.metric, primary, canary))
    return tuple(results)
