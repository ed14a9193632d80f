"""The canary state machine: move traffic through the steps, promote when all pass, roll back at once.

A canary runs through its analysed steps (every step below 100 %; passing the last is the
promotion). Each step lasts at least ``interval``; its window is ``[step start, now)``. Whenever it
is evaluated (the server's promotion loop calls it every few seconds with the window's statistics):

- any gate fails (on enough traffic): roll back at once, naming the gate and its numbers;
- the interval has not elapsed: wait;
- some gate is inconclusive (too little traffic): wait, and say "inconclusive" — never pass;
- every gate passes: go to the next step, whose window starts now; after the last, promote.

Everything is a pure function of its inputs and the time the injected clock gives, so the machine
is tested without a server or a sleep. :class:`CanaryAnalysis` holds the state for a caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from modelport.promotion.gates import GateResult, Outcome, judge, overall
from modelport.promotion.window import WindowStats
from modelport.rollout.plan import Canary, format_duration

__all__ = ["Action", "CanaryAnalysis", "CanaryState", "Decision", "Phase", "StepRecord", "evaluate",
           "finish", "start"]

Clock = Callable[[], float]


class Phase(StrEnum):
    RUNNING = "running"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"


class Action(StrEnum):
    """What the caller must do now."""

    #: keep the weight: the step's interval has not elapsed
    WAIT = "wait"
    #: keep the weight: too little traffic to judge
    INCONCLUSIVE = "inconclusive"
    #: set the canary's weight to the next step
    ADVANCE = "advance"
    #: make the canary the primary (move the alias, record why)
    PROMOTE = "promote"
    #: send all traffic back to the primary
    ROLLBACK = "rollback"
    #: the canary is already promoted or rolled back
    NONE = "none"


@dataclass(frozen=True)
class StepRecord:
    """How one step ended."""

    step: int
    weight: float
    started_at: float
    ended_at: float
    outcome: Outcome
    results: tuple[GateResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "weight": self.weight, "started_at": self.started_at,
                "ended_at": self.ended_at, "outcome": str(self.outcome),
                "results": [r.to_dict() for r in self.results]}


@dataclass(frozen=True)
class CanaryState:
    """Where a canary stands: its phase, its step (an index into the analysed steps) and weight."""

    phase: Phase
    step: int
    weight: float
    step_started_at: float
    #: the last evaluation's gates, and the plain-language reason of the last decision
    results: tuple[GateResult, ...] = ()
    reason: str = ""
    history: tuple[StepRecord, ...] = ()

    def window(self, now: float) -> tuple[float, float]:
        """The span whose statistics the current step is judged on: ``[step start, now)``."""
        return self.step_started_at, now

    def to_dict(self) -> dict[str, Any]:
        return {"phase": str(self.phase), "step": self.step, "weight": self.weight,
                "step_started_at": self.step_started_at, "reason": self.reason,
                "results": [r.to_dict() for r in self.results],
                "history": [h.to_dict() for h in self.history]}


@dataclass(frozen=True)
class Decision:
    """The action to take now, the weight the canary should have after it, and why."""

    action: Action
    weight: float
    state: CanaryState
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"action": str(self.action), "weight": self.weight, "reason": self.reason,
                "state": self.state.to_dict()}


def start(canary: Canary, now: float) -> CanaryState:
    """A new run at the step matching the plan's weight (the first step if none matches)."""
    steps = canary.analysed_steps
    step = steps.index(canary.weight) if canary.weight in steps else 0
    return CanaryState(Phase.RUNNING, step, steps[step], now,
                       reason=f"step {step + 1} of {len(steps)} at {steps[step]:g}% started")


def _failing(results: tuple[GateResult, ...]) -> str:
    return "; ".join(f"gate {r.gate} failed: {r.detail}" for r in results if r.outcome is Outcome.FAIL)


def _waiting(results: tuple[GateResult, ...]) -> str:
    return "; ".join(r.detail for r in results if r.outcome is Outcome.INCONCLUSIVE)


def evaluate(canary: Canary, state: CanaryState, primary: WindowStats, candidate: WindowStats,
             now: float) -> Decision:
    """The decision at ``now`` given the primary's and the canary's statistics over ``state.window``."""
    if state.phase is not Phase.RUNNING:
        return Decision(Action.NONE, state.weight, state, f"the canary is already {state.phase}")
    steps = canary.analysed_steps
    results = judge(canary.gates, primary, candidate)
    outcome = overall(results)
    label = f"step {state.step + 1} of {len(steps)} ({state.weight:g}%)"
    if outcome is Outcome.FAIL:
        return _end(state, now, results, Phase.ROLLED_BACK, Action.ROLLBACK,
                    f"rolled back at {label}: {_failing(results)}")
    elapsed = now - state.step_started_at
    if elapsed < canary.interval_s:
        reason = (f"{label}: {format_duration(max(elapsed, 0.0))} of {format_duration(canary.interval_s)} "
                  f"elapsed")
        return Decision(Action.WAIT, state.weight, replace(state, results=results, reason=reason), reason)
    if outcome is Outcome.INCONCLUSIVE:
        reason = f"{label} inconclusive, waiting: {_waiting(results)}"
        return Decision(Action.INCONCLUSIVE, state.weight, replace(state, results=results, reason=reason),
                        reason)
    record = StepRecord(state.step, state.weight, state.step_started_at, now, outcome, results)
    if state.step + 1 == len(steps):
        return _end(state, now, results, Phase.PROMOTED, Action.PROMOTE,
                    f"promoted: all {len(steps)} steps passed their gates", record)
    weight = steps[state.step + 1]
    reason = f"{label} passed; step {state.step + 2} of {len(steps)} at {weight:g}% started"
    new = CanaryState(Phase.RUNNING, state.step + 1, weight, now, results, reason, (*state.history, record))
    return Decision(Action.ADVANCE, weight, new, reason)


def _end(state: CanaryState, now: float, results: tuple[GateResult, ...], phase: Phase, action: Action,
         reason: str, record: StepRecord | None = None) -> Decision:
    record = record or StepRecord(state.step, state.weight, state.step_started_at, now, overall(results),
                                  results)
    weight = 100.0 if phase is Phase.PROMOTED else 0.0
    new = replace(state, phase=phase, weight=weight, results=results, reason=reason,
                  history=(*state.history, record))
    return Decision(action, weight, new, reason)


def finish(state: CanaryState, now: float, *, promote: bool, reason: str) -> Decision:
    """End a running canary by hand: promote it, or abort it (roll back), recording ``reason``."""
    if state.phase is not Phase.RUNNING:
        return Decision(Action.NONE, state.weight, state, f"the canary is already {state.phase}")
    phase, action = (Phase.PROMOTED, Action.PROMOTE) if promote else (Phase.ROLLED_BACK, Action.ROLLBACK)
    word = "promoted" if promote else "aborted"
    return _end(state, now, state.results, phase, action, f"{word} by hand: {reason}")


class CanaryAnalysis:
    """A canary's state over time, read from an injected clock (seconds; ``time.time`` by default)."""

    def __init__(self, canary: Canary, clock: Clock = time.time) -> None:
        self.canary = canary
        self.clock = clock
        self.state = start(canary, clock())

    def window(self) -> tuple[float, float]:
        """The span to read statistics over now."""
        return self.state.window(self.clock())

    def evaluate(self, primary: WindowStats, candidate: WindowStats) -> Decision:
        decision = evaluate(self.canary, self.state, primary, candidate, self.clock())
        self.state = decision.state
        return decision

    def promote(self, reason: str) -> Decision:
        decision = finish(self.state, self.clock(), promote=True, reason=reason)
        self.state = decision.state
        return decision

    def abort(self, reason: str) -> Decision:
        decision = finish(self.state, self.clock(), promote=False, reason=reason)
        self.state = decision.state
        return decision
