"""Plan changes that act on the registry: put, promote, roll back, abort; each recorded with who and why.

These run in any process (a server's admin API, its canary loop); the servers follow the result
through :class:`modelport.app.plan_sync.PlanSync`. Promotion moves the ``production`` alias (or the
alias the plan's primary follows) to the canary; rollback after a promotion moves it back, so a
server that kept the previous version warm switches by flipping a pointer. An alias move and the
plan change it belongs to commit in one registry transaction, or neither does.
"""

from __future__ import annotations

from typing import Any

from modelport.core.refs import DEFAULT_ALIAS, RefKind, parse_ref
from modelport.errors import ModelportError, RegistryError
from modelport.registry.aliases import AliasMove
from modelport.registry.endpoints import ABORT, DECLARE, PROMOTE, PUT, ROLLBACK, EndpointChange
from modelport.registry.service import Registry
from modelport.rollout.plan import EndpointPlan, parse_plan


def _current(registry: Registry, endpoint: str) -> tuple[EndpointPlan, int]:
    record = registry.endpoints.require(endpoint)
    return parse_plan(endpoint, record.plan), record.revision


def concrete(registry: Registry, ref: str) -> str:
    """``name:N`` for a registry ref as it resolves now (the ref itself for paths and digests)."""
    parsed = parse_ref(ref)
    if parsed.kind in (RefKind.PATH, RefKind.DIGEST):
        return ref
    try:
        return registry.version_for(parsed).ref
    except ModelportError:
        return ref


def check_refs(registry: Registry, plan: EndpointPlan) -> None:
    """Every reference of ``plan`` names something (NotFoundError names the first that does not)."""
    for ref in plan.refs():
        parsed = parse_ref(ref)
        if parsed.kind in (RefKind.PATH, RefKind.DIGEST):
            registry.resolve(ref)
        else:
            registry.version_for(parsed)


def put(registry: Registry, plan: EndpointPlan, *, who: str, reason: str | None) -> EndpointChange:
    check_refs(registry, plan)
    return registry.endpoints.put(plan.endpoint, plan.to_dict(), action=PUT, who=who, reason=reason)


def declare(registry: Registry, plan: EndpointPlan, *, who: str, source: str) -> EndpointChange | None:
    """Store a plan a serve file declares, unless the file still says what it said last time (the
    plan may have moved on since, by its canary or by hand: a restart must not undo that)."""
    store = registry.endpoints
    declared = plan.to_dict()
    if store.get(plan.endpoint) is not None:
        last = store.history(plan.endpoint, actions=(DECLARE,), limit=1)
        if last and last[0].detail is not None and last[0].detail.get("declared") == declared:
            return None
    check_refs(registry, plan)
    return store.put(plan.endpoint, declared, action=DECLARE, who=who, reason=f"declared in {source}",
                     detail={"declared": declared})


def promote(registry: Registry, endpoint: str, *, who: str, reason: str,
            detail: dict[str, Any] | None = None) -> EndpointChange:
    """Make the canary the primary: move the alias the primary follows (else ``production`` of the
    canary's model) to it, and drop the canary from the plan."""
    plan, revision = _current(registry, endpoint)
    if plan.canary is None:
        raise RegistryError(f"endpoint {endpoint!r} has no canary to promote")
    before, after = concrete(registry, plan.primary), concrete(registry, plan.canary.ref)
    primary = parse_ref(plan.primary)
    target = parse_ref(after)
    move = None
    new = plan.promoted()
    if target.kind is RefKind.VERSION and target.name is not None and target.version is not None:
        follows = primary.kind is RefKind.ALIAS and primary.name == target.name and primary.alias is not None
        alias = primary.alias if follows and primary.alias is not None else DEFAULT_ALIAS
        move = AliasMove(target.name, alias, target.version, reason=f"{endpoint}: {reason}")
        new = plan.rolled_back() if follows else new
    # the alias and the plan move in one transaction: a failure leaves both as they were
    return registry.endpoints.put(endpoint, new.to_dict(), action=PROMOTE, who=who, reason=reason,
                                  detail={"from": before, "to": after, **(detail or {})},
                                  expect_revision=revision, alias=move)


def abort(registry: Registry, endpoint: str, *, who: str, reason: str, action: str = ABORT,
          detail: dict[str, Any] | None = None) -> EndpointChange:
    """Send all traffic back to the primary: the canary leaves the plan."""
    plan, revision = _current(registry, endpoint)
    if plan.canary is None:
        raise RegistryError(f"endpoint {endpoint!r} has no canary to abort")
    return registry.endpoints.put(endpoint, plan.rolled_back().to_dict(), action=action, who=who,
                                  reason=reason, detail={"canary": concrete(registry, plan.canary.ref),
                                                         "primary": concrete(registry, plan.primary),
                                                         **(detail or {})},
                                  expect_revision=revision)


def rollback(registry: Registry, endpoint: str, *, who: str, reason: str) -> EndpointChange:
    """Return traffic to the previous known-good version: a running canary is rolled back; else the
    alias the primary follows moves back, or the primary before the last promotion returns."""
    plan, revision = _current(registry, endpoint)
    if plan.canary is not None:
        return abort(registry, endpoint, who=who, reason=reason, action=ROLLBACK)
    primary = parse_ref(plan.primary)
    before = concrete(registry, plan.primary)
    if primary.kind is RefKind.ALIAS and primary.name is not None and primary.alias is not None:
        move = AliasMove(primary.name, primary.alias, rollback=True, reason=f"{endpoint}: {reason}")
        return registry.endpoints.put(endpoint, plan.to_dict(), action=ROLLBACK, who=who, reason=reason,
                                      detail={"from": before}, expect_revision=revision, alias=move)
    promotions = registry.endpoints.history(endpoint, actions=(PROMOTE,), limit=1)
    if not promotions or not promotions[0].previous:
        raise RegistryError(f"endpoint {endpoint!r} has no earlier primary to roll back to")
    previous = parse_plan(endpoint, promotions[0].previous)
    new = EndpointPlan(endpoint, previous.primary, shadows=plan.shadows)
    return registry.endpoints.put(endpoint, new.to_dict(), action=ROLLBACK, who=who, reason=reason,
                                  detail={"from": before, "to": concrete(registry, previous.primary)},
                                  expect_revision=revision)
