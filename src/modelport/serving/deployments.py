"""Endpoints in a running server: each endpoint's plan over served versions, and the choice per request.

The composition root resolves a plan's references (``credit@production``, ``credit:4``) to the
versions this process serves (``name:version`` keys) and hands both to :meth:`Deployments.set`;
from then on a request to the endpoint costs a dict lookup, an optional key read and one call of
the pure policy :func:`modelport.rollout.route`. Readiness is read from the served versions at the
moment of the call, so a version whose golden check failed, or one still loading, takes nothing.
Setting a plan swaps one reference: requests already routed finish on the version they got.
A shadow version always computes on its own model thread, never inline on the event loop, so
even a shadow slow on some input cannot hold up the callers' requests.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modelport.errors import NotReadyError, ProtocolError
from modelport.rollout.plan import Arm, EndpointPlan, KeySource
from modelport.rollout.routing import Route, request_key, route
from modelport.serving.codecs import jsonio

if TYPE_CHECKING:
    from modelport.serving.service import ServedModel

#: the key given to a reference that resolves to nothing served here: never ready
UNRESOLVED = "unresolved:"


@dataclass(frozen=True)
class Deployment:
    """An endpoint's plan as declared (references) and as routed (served ``name:version`` keys)."""

    plan: EndpointPlan
    routed: EndpointPlan
    #: where the sticky key comes from (None: every request is a random draw)
    key: KeySource | None
    #: reference → served key, for status pages
    keys: Mapping[str, str]

    def to_dict(self, ready: Collection[str]) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "versions": {
            ref: {"served": key, "ready": key in ready} for ref, key in self.keys.items()}}


def routed_plan(plan: EndpointPlan, keys: Mapping[str, str]) -> EndpointPlan:
    """``plan`` with every reference replaced by its served key (unresolved ones: never ready)."""

    def key(ref: str) -> str:
        return keys.get(ref) or UNRESOLVED + ref

    canary = None if plan.canary is None else replace(plan.canary, ref=key(plan.canary.ref))
    ab = None if plan.ab is None else replace(plan.ab, arms=tuple(Arm(a.name, key(a.ref))
                                                                  for a in plan.ab.arms))
    return replace(plan, primary=key(plan.primary), canary=canary, ab=ab,
                   shadows=tuple(dict.fromkeys(key(s) for s in plan.shadows)))


class _Ready(Collection[str]):
    """The served keys that are ready now, read at each membership test (no copy per request)."""

    def __init__(self, lookup: Callable[[str], ServedModel | None]) -> None:
        self._lookup = lookup

    def __contains__(self, key: object) -> bool:
        served = self._lookup(key) if isinstance(key, str) else None
        return served is not None and served.ready

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def body_fields(body: bytes, header_length: str | None = None) -> Mapping[str, Any] | None:
    """The top-level fields of a JSON body, where a sticky ``field:NAME`` key is looked up; a field
    of ``parameters`` (OIP v2) or of the first record (``instances``, ``dataframe_records``) counts
    too. None when the body is not a JSON object."""
    if header_length is not None and header_length.isdigit():
        body = body[:int(header_length)]
    try:
        document = jsonio.decode(body)
    except (ProtocolError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    fields: dict[str, Any] = {}
    for nested in ("instances", "dataframe_records"):
        records = document.get(nested)
        if isinstance(records, list) and records and isinstance(records[0], dict):
            fields.update(records[0])
    parameters = document.get("parameters")
    if isinstance(parameters, dict):
        fields.update(parameters)
    fields.update(document)
    return fields


class Deployments:
    """The endpoints of this process, by name; reads are lock-free (one dict, replaced entries)."""

    def __init__(self, lookup: Callable[[str], ServedModel | None]) -> None:
        self._lookup = lookup
        self._endpoints: dict[str, Deployment] = {}
        self.ready: Collection[str] = _Ready(lookup)
        self._random = random.random
        #: told when a request that should carry a sticky key had none (metrics); set by the app
        self.on_key_missing: Callable[[str], None] | None = None

    def __contains__(self, endpoint: str) -> bool:
        return endpoint in self._endpoints

    def __iter__(self) -> Iterator[Deployment]:
        return iter(list(self._endpoints.values()))

    def get(self, endpoint: str) -> Deployment | None:
        return self._endpoints.get(endpoint)

    def set(self, plan: EndpointPlan, keys: Mapping[str, str]) -> Deployment:
        """Serve ``plan`` on its endpoint, references mapped to served keys by ``keys``."""
        routed = routed_plan(plan, keys)
        for key in routed.shadows:
            served = self._lookup(key)
            if served is not None:  # a shadow never computes on the event loop the callers share
                served.batcher.inline_below_s = 0.0
        source = plan.ab.key if plan.ab is not None else plan.canary.key if plan.canary is not None else None
        deployment = Deployment(plan, routed, source, dict(keys))
        self._endpoints[plan.endpoint] = deployment
        return deployment

    def remove(self, endpoint: str) -> None:
        self._endpoints.pop(endpoint, None)

    def referenced(self) -> frozenset[str]:
        """Every served key some plan names now (what must stay loaded)."""
        return frozenset(key for deployment in self._endpoints.values() for key in deployment.keys.values())

    def primary(self, endpoint: str) -> ServedModel:
        """The version that answers the endpoint's plain traffic (for metadata and readiness)."""
        deployment = self._endpoints[endpoint]
        key = deployment.routed.primary
        if key not in self.ready:
            with contextlib.suppress(NotReadyError):
                key = route(deployment.routed, None, 0.0, self.ready).version
        served = self._lookup(key)
        if served is None:
            raise NotReadyError(endpoint, f"its primary {deployment.plan.primary} is not loaded yet")
        return served

    def choose(self, deployment: Deployment, headers: Mapping[str, str], body: bytes,
               header_length: str | None = None) -> tuple[ServedModel, Route]:
        """The served version that answers this request, and the route that says why."""
        source = deployment.key
        key = None
        if source is not None:
            fields = body_fields(body, header_length) if source.kind == "field" else None
            key = request_key(source, headers, fields)
        decision = route(deployment.routed, key, self._random(), self.ready)
        if decision.key_missing and self.on_key_missing is not None:
            self.on_key_missing(deployment.plan.endpoint)
        served = self._lookup(decision.version)
        if served is None:  # ready a moment ago, unloaded since: the caller may retry
            raise NotReadyError(deployment.plan.endpoint, f"{decision.version} was just unloaded")
        return served, decision
