"""The canary state machine with an injected clock: pass, fail on each gate, inconclusive on low traffic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from modelport.promotion.canary import Action, CanaryAnalysis, Phase, evaluate, start
from modelport.promotion.gates import Outcome
from modelport.promotion.window import WindowStats
from modelport.rollout import Canary, Gates, parse_metric_gate

INTERVAL = 300.0
GATES = Gates(min_requests=200, max_error_rate=0.01, max_p99_ratio=1.2, max_disagreement=0.1,
              metric=parse_metric_gate("conversion>=baseline"))
CANARY = Canary("m:2", (1, 5, 25, 50, 100), INTERVAL, GATES)


class Clock:
    """Seconds that move only when a test says so."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def labels(n: int, good_share: float) -> tuple[str, ...]:
    good = round(n * good_share)
    return ("good",) * good + ("bad",) * (n - good)


def conversions(n: int, rate: float) -> tuple[float, ...]:
    hits = round(n * rate)
    return (1.0,) * hits + (0.0,) * (n - hits)


def window(requests: int = 1_000, errors: int = 0, p99: float = 20.0, good_share: float = 0.5,
           conversion: float = 0.1, predictions: Sequence[Any] | None = None) -> WindowStats:
    served = requests - errors
    return WindowStats(requests, errors, p99,
                       tuple(predictions) if predictions is not None else labels(served, good_share),
                       {"conversion": conversions(served, conversion)})


HEALTHY = window()


def test_a_healthy_canary_walks_every_step_then_is_promoted() -> None:
    clock = Clock()
    analysis = CanaryAnalysis(CANARY, clock)
    assert (analysis.state.phase, analysis.state.weight) == (Phase.RUNNING, 1.0)
    seen = []
    for weight in (1, 5, 25, 50):
        assert analysis.window() == (clock.now, clock.now)
        clock.now += INTERVAL / 2
        early = analysis.evaluate(HEALTHY, HEALTHY)
        assert (early.action, early.weight) == (Action.WAIT, weight)
        assert early.reason == f"step {len(seen) + 1} of 4 ({weight}%): 150s of 5m elapsed"
        clock.now += INTERVAL / 2
        decision = analysis.evaluate(HEALTHY, HEALTHY)
        seen.append((decision.action, decision.weight))
    assert seen == [(Action.ADVANCE, 5), (Action.ADVANCE, 25), (Action.ADVANCE, 50), (Action.PROMOTE, 100)]
    assert analysis.state.phase is Phase.PROMOTED
    assert analysis.state.reason == "promoted: all 4 steps passed their gates"
    history = analysis.state.history
    assert [h.weight for h in history] == [1, 5, 25, 50]
    assert all(h.outcome is Outcome.PASS for h in history)
    assert [h.ended_at - h.started_at for h in history] == [INTERVAL] * 4
    assert analysis.evaluate(HEALTHY, window(errors=500)).action is Action.NONE  # finished stays finished


@pytest.mark.parametrize(("canary", "gate", "numbers"), [
    (window(errors=25), "error_rate", "canary error rate 2.50% (25/1000) above the maximum 1.00%"),
    (window(p99=30.0), "p99_ratio", "canary p99 30.0 ms is 1.50x the primary's 20.0 ms"),
    (window(good_share=0.9), "disagreement", "total variation distance 0.400"),
    (window(conversion=0.05), "metric:conversion", "canary conversion 0.05 against the bound 0.1"),
])
def test_a_failing_gate_rolls_back_at_once_naming_the_gate_and_its_numbers(
        canary: WindowStats, gate: str, numbers: str) -> None:
    clock = Clock()
    analysis = CanaryAnalysis(CANARY, clock)
    clock.now += INTERVAL
    assert analysis.evaluate(HEALTHY, HEALTHY).action is Action.ADVANCE
    clock.now += 10  # long before the step's interval is over
    decision = analysis.evaluate(HEALTHY, canary)
    assert (decision.action, decision.weight, decision.state.phase) == (Action.ROLLBACK, 0, Phase.ROLLED_BACK)
    assert decision.reason.startswith(f"rolled back at step 2 of 4 (5%): gate {gate} failed: ")
    assert numbers in decision.reason
    failed = [r for r in decision.state.results if r.outcome is Outcome.FAIL]
    assert [r.gate for r in failed] == [gate]
    assert decision.state.history[-1].outcome is Outcome.FAIL


def test_low_traffic_is_inconclusive_and_waits_never_passing_or_failing() -> None:
    clock = Clock()
    analysis = CanaryAnalysis(CANARY, clock)
    clock.now += INTERVAL * 3
    sparse = window(requests=150, errors=150)  # all failed, but too few to judge
    for _ in range(3):
        decision = analysis.evaluate(HEALTHY, sparse)
        assert (decision.action, decision.weight) == (Action.INCONCLUSIVE, 1)
        assert "inconclusive: canary has 150 of the 200 requests needed" in decision.reason
        clock.now += INTERVAL
    assert analysis.evaluate(window(requests=199), HEALTHY).action is Action.INCONCLUSIVE
    assert analysis.evaluate(HEALTHY, HEALTHY).action is Action.ADVANCE  # enough traffic at last
    assert analysis.state.history[0].ended_at == clock.now


def test_missing_feedback_or_predictions_is_inconclusive_too() -> None:
    clock = Clock()
    analysis = CanaryAnalysis(CANARY, clock)
    clock.now += INTERVAL
    no_outcomes = WindowStats(1_000, 0, 20.0, labels(1_000, 0.5), {"conversion": conversions(50, 0.0)})
    decision = analysis.evaluate(HEALTHY, no_outcomes)
    assert decision.action is Action.INCONCLUSIVE
    assert "50 canary and 1000 primary outcomes of conversion, 200 needed" in decision.reason
    no_predictions = WindowStats(1_000, 0, 20.0, (), {"conversion": conversions(1_000, 0.1)})
    assert analysis.evaluate(HEALTHY, no_predictions).action is Action.INCONCLUSIVE


def test_noise_alone_does_not_roll_back_a_good_canary() -> None:
    """Statistical gates fail on evidence: 200 draws of one distribution differ by chance."""
    rng = np.random.default_rng(5)
    clock = Clock()
    canary = Canary("m:2", (10, 100), INTERVAL, Gates(min_requests=200, max_disagreement=0.05,
                                                      metric=parse_metric_gate("conversion>=baseline")))
    analysis = CanaryAnalysis(canary, clock)
    clock.now += INTERVAL
    primary = WindowStats(200, 0, 20.0, tuple(rng.normal(size=200).tolist()),
                          {"conversion": tuple(rng.binomial(1, 0.1, 200).astype(float).tolist())})
    candidate = WindowStats(200, 0, 20.0, tuple(rng.normal(size=200).tolist()),
                            {"conversion": tuple(rng.binomial(1, 0.1, 200).astype(float).tolist())})
    decision = analysis.evaluate(primary, candidate)
    disagreement = next(r for r in decision.state.results if r.gate == "disagreement")
    assert disagreement.value is not None
    assert disagreement.value > 0.05  # measured above the maximum, by chance
    assert decision.action is Action.PROMOTE


def test_a_shifted_numeric_prediction_distribution_fails() -> None:
    rng = np.random.default_rng(6)
    canary = Canary("m:2", (10, 100), INTERVAL, Gates(min_requests=200, max_disagreement=0.05))
    primary = WindowStats(5_000, 0, 20.0, tuple(rng.normal(size=5_000).tolist()))
    shifted = WindowStats(5_000, 0, 20.0, tuple(rng.normal(0.5, 1.0, size=5_000).tolist()))
    decision = evaluate(canary, start(canary, 0.0), primary, shifted, 1.0)
    assert decision.action is Action.ROLLBACK
    assert "kolmogorov smirnov distance" in decision.reason


def test_by_hand_promote_and_abort() -> None:
    clock = Clock()
    promoted = CanaryAnalysis(CANARY, clock).promote("looks right to alice")
    assert (promoted.action, promoted.weight, promoted.reason) == \
        (Action.PROMOTE, 100, "promoted by hand: looks right to alice")
    aborted = CanaryAnalysis(CANARY, clock)
    decision = aborted.abort("wrong model")
    assert (decision.action, decision.weight, aborted.state.phase) == (Action.ROLLBACK, 0, Phase.ROLLED_BACK)
    assert aborted.abort("again").action is Action.NONE


def test_a_canary_resumes_at_the_step_of_its_weight() -> None:
    state = start(Canary("m:2", weight=25.0), 50.0)
    assert (state.step, state.weight, state.step_started_at) == (2, 25.0, 50.0)
    assert start(Canary("m:2", weight=7.0), 0.0).step == 0


def test_steps_without_100_promote_after_the_last() -> None:
    canary = Canary("m:2", (10, 30), 60.0, Gates(min_requests=10))
    state = start(canary, 0.0)
    first = evaluate(canary, state, HEALTHY, HEALTHY, 60.0)
    second = evaluate(canary, first.state, HEALTHY, HEALTHY, 119.0)
    third = evaluate(canary, first.state, HEALTHY, HEALTHY, 120.0)
    assert [d.action for d in (first, second, third)] == [Action.ADVANCE, Action.WAIT, Action.PROMOTE]
    assert third.state.to_dict()["phase"] == "promoted"
