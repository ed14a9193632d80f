"""Which version answers a request: a pure function of the plan, the request's key, a random draw and
which versions are ready.

Sticky assignment maps ``blake2b(endpoint, salt, key)`` to a fraction in [0, 1) and cuts that line by
the plan's percents, so one key lands on the same side in every process and after every restart, and
a canary whose weight grows keeps the keys it already had. The salt belongs to the experiment (the A/B
test's or the canary's ``salt``): a new one reshuffles the keys, so the users who were in one test's
treatment are not the treatment of every test after it. A request without a key uses the random
draw instead, and the route says so (``key_missing``), so the server can count them.

Readiness wins over the plan: a version that is not ready (loading, or its golden check failed in
this environment) never receives traffic. Its share goes to the primary; if the primary is not
ready either, to the first ready arm (or the ready canary); with nothing ready, NotReadyError.
Shadows that are not ready are left out of the route.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from modelport.errors import NotReadyError
from modelport.rollout.plan import EndpointPlan, KeySource

__all__ = ["PRIMARY", "CANARY", "ARM", "Route", "key_fraction", "request_key", "route"]

#: the roles a route gives, as the prediction log records them
PRIMARY = "primary"
CANARY = "canary"
ARM = "arm"
_SCALE = float(2**64)


@dataclass(frozen=True)
class Route:
    """Where one request goes, and why."""

    #: the reference that answers
    version: str
    #: ``primary``, ``canary`` or ``arm``
    role: str
    #: the A/B arm's name when ``role`` is ``arm``
    arm: str | None = None
    #: ready shadows that get a copy of the request after the answer
    shadows: tuple[str, ...] = ()
    #: the plan wants a key and the request had none: the draw decided
    key_missing: bool = False
    #: the plan chose another version that is not ready; this one took its place
    fallback_from: str | None = None


def key_fraction(endpoint: str, key: str, salt: str = "") -> float:
    """Where ``key`` falls in [0, 1) for ``endpoint`` and an experiment's ``salt``: the first 8 bytes of
    a blake2b digest (without a salt, of ``endpoint NUL key`` alone, as before salts existed)."""
    text = f"{endpoint}\x00{salt}\x00{key}" if salt else f"{endpoint}\x00{key}"
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def request_key(source: KeySource | None, headers: Mapping[str, str], body: Mapping[str, Any] | None
                ) -> str | None:
    """A request's sticky key: the header (case-insensitive) or the top-level body field it names.

    None when the plan has no key source, or the request lacks it or holds an empty value.
    """
    if source is None:
        return None
    value: Any
    if source.kind == "header":
        value = next((v for k, v in headers.items() if k.lower() == source.name), None)
    else:
        value = None if body is None else body.get(source.name)
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text or None


def _pick(cuts: tuple[float, ...], at: float) -> int:
    """The index of the percent band ``at`` (a fraction) falls in."""
    edge = 0.0
    for index, percent in enumerate(cuts):
        edge += percent / 100.0
        if at < edge:
            return index
    return len(cuts) - 1


def _fallback(plan: EndpointPlan, ready: Collection[str], wanted: str) -> Route:
    if plan.primary in ready:
        arm = None
        if plan.ab is not None:
            arm = next((a.name for a in plan.ab.arms if a.ref == plan.primary), None)
        return Route(plan.primary, ARM if arm else PRIMARY, arm, fallback_from=wanted)
    if plan.ab is not None:
        for candidate in plan.ab.arms:
            if candidate.ref in ready:
                return Route(candidate.ref, ARM, candidate.name, fallback_from=wanted)
    if plan.canary is not None and plan.canary.ref in ready:
        return Route(plan.canary.ref, CANARY, fallback_from=wanted)
    raise NotReadyError(plan.endpoint, "no version of its plan is ready "
                        f"({', '.join(plan.refs())}: loading, or failed its checks)")


def route(plan: EndpointPlan, key: str | None, draw: float, ready: Collection[str]) -> Route:
    """The version that answers a request with sticky ``key`` (or None), given a uniform ``draw`` in
    [0, 1) and the set of ready references; raises NotReadyError when none of the plan's is ready."""
    if not 0.0 <= draw < 1.0:
        raise ValueError(f"the draw must lie in [0, 1), got {draw!r}")
    source = plan.ab.key if plan.ab is not None else plan.canary.key if plan.canary is not None else None
    salt = plan.ab.salt if plan.ab is not None else plan.canary.salt if plan.canary is not None else ""
    missing = source is not None and key is None
    at = key_fraction(plan.endpoint, key, salt) if source is not None and key is not None else draw
    if plan.ab is not None:
        arm = plan.ab.arms[_pick(plan.ab.split, at)]
        chosen = Route(arm.ref, ARM, arm.name)
    elif plan.canary is not None and at < plan.canary.weight / 100.0:
        chosen = Route(plan.canary.ref, CANARY)
    else:
        chosen = Route(plan.primary, PRIMARY)
    if chosen.version not in ready:
        chosen = _fallback(plan, ready, chosen.version)
    shadows = tuple(s for s in plan.shadows if s in ready and s != chosen.version)
    return Route(chosen.version, chosen.role, chosen.arm, shadows, missing, chosen.fallback_from)
