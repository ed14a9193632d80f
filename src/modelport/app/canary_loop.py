"""The promotion loop of a running server: judge each canary on the prediction log and act.

Every ``tick_s`` the worker that holds the loop's lock (one per server, see
:class:`modelport.app.monitor.Leader`) reads, for each endpoint running a canary, the window of the
current step from the prediction log, computes both sides' statistics on that same window and
asks :func:`modelport.promotion.evaluate` what to do: wait, advance the weight, promote (the alias
moves, the history says why) or roll back at once, naming the gate and its numbers. Where a
canary stands is kept in the registry beside its plan, so another worker can take over the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from modelport.app import rollout_actions
from modelport.app.monitor import Leader
from modelport.app.plan_sync import PlanSync
from modelport.predictions.reader import joined, read_predictions
from modelport.promotion.canary import Action, CanaryState, Decision, Phase, evaluate, start
from modelport.promotion.window import WindowStats, window_statistics
from modelport.registry.endpoints import ROLLBACK, STEP
from modelport.rollout.plan import EndpointPlan, parse_plan

log = logging.getLogger("modelport.rollout")

WHO = "modelport-canary"
LOCK_FILE = "rollout-canary.lock"


def restore(data: dict[str, Any] | None, plan: EndpointPlan, now: float) -> CanaryState:
    """The stored state of this plan's canary, or a fresh start at the plan's weight."""
    canary = plan.canary
    assert canary is not None
    if data is None or data.get("canary") != canary.ref or data.get("phase") != Phase.RUNNING:
        return start(canary, now)
    return CanaryState(Phase.RUNNING, int(data["step"]), float(data["weight"]),
                       float(data["step_started_at"]), reason=str(data.get("reason", "")))


def window_frame(root: Path, models: set[str], since: float, until: float, metric: bool) -> pd.DataFrame:
    """Every logged row of ``models`` in ``[since, until)`` (with feedback joined for a metric gate)."""
    begin, end = datetime.fromtimestamp(since, UTC), datetime.fromtimestamp(until, UTC)
    read = joined if metric else read_predictions
    frames = [read(root, model, begin, end) for model in sorted(models)]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["endpoint", "model", "version", "role", "status", "latency_ms"])


class CanaryLoop:
    """Judges every running canary of the endpoints ``sync`` follows, while this worker leads."""

    def __init__(self, sync: PlanSync, log_root: Path, leader: Leader, tick_s: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.sync = sync
        self.log_root = log_root
        self.leader = leader
        self.tick_s = tick_s
        self.clock = clock

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            if not self.leader():
                continue
            for endpoint, plan in list(self.sync.plans.items()):
                if plan.canary is None:
                    continue
                try:
                    decision = await asyncio.to_thread(self.judge, endpoint, plan)
                except Exception:  # the next tick tries again; serving goes on regardless
                    log.exception("canary of endpoint %s not judged", endpoint)
                    continue
                if decision.action in (Action.ADVANCE, Action.PROMOTE, Action.ROLLBACK):
                    await self.sync.sync()

    def judge(self, endpoint: str, plan: EndpointPlan) -> Decision:
        """Evaluate the canary of ``plan`` now and act on the decision; returns it."""
        canary = plan.canary
        assert canary is not None
        registry = self.sync.registry
        record = registry.endpoints.get(endpoint)  # fresh: the state moves without a new revision
        if record is None or parse_plan(endpoint, record.plan) != plan:
            raise RuntimeError(f"the plan of {endpoint} changed meanwhile; judged at the next tick")
        now = self.clock()
        state = restore(record.state, plan, now)
        primary = self.sync.resolve(plan.primary)
        candidate = self.sync.resolve(canary.ref)
        metric = canary.gates.metric
        frame = window_frame(self.log_root, {primary.name, candidate.name}, state.step_started_at, now,
                             metric is not None)
        stats = window_statistics(frame, endpoint=endpoint, metric=None if metric is None else metric.name)
        empty = WindowStats(0)
        decision = evaluate(canary, state, stats.get(primary.key, empty), stats.get(candidate.key, empty),
                            now)
        saved = {**decision.state.to_dict(), "canary": canary.ref, "decision": str(decision.action),
                 "primary_stats": stats.get(primary.key, empty).to_dict(),
                 "canary_stats": stats.get(candidate.key, empty).to_dict()}
        store = registry.endpoints
        gates = [result.to_dict() for result in decision.state.results]
        if decision.action is Action.ADVANCE:
            store.set_state(endpoint, saved)
            store.put(endpoint, plan.with_canary_weight(decision.weight).to_dict(), action=STEP, who=WHO,
                      reason=decision.reason, detail={"gates": gates}, expect_revision=record.revision,
                      keep_state=True)
        elif decision.action is Action.PROMOTE:
            rollout_actions.promote(registry, endpoint, who=WHO, reason=decision.reason,
                                    detail={"gates": gates})
            store.set_state(endpoint, saved)
        elif decision.action is Action.ROLLBACK:
            rollout_actions.abort(registry, endpoint, who=WHO, reason=decision.reason, action=ROLLBACK,
                                  detail={"gates": gates})
            store.set_state(endpoint, saved)
        else:
            store.set_state(endpoint, saved)
        if decision.action is not Action.WAIT:
            log.warning("canary of %s: %s", endpoint, decision.reason)
        return decision
