"""Endpoint plans in the registry: the current plan of every endpoint, its canary state, its history.

Every server of the registry polls :meth:`EndpointStore.revisions` (one small query) and reads a plan
again only when its revision moved, so a change made through any worker, any server or the CLI
reaches every worker within one poll. A plan change and its history entry are written in one
transaction, as alias moves are, and so is the alias move that goes with a plan change (a promotion,
a rollback); the canary state (where the promotion loop stands) is written
without history: it is progress, not a change of plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from modelport.errors import NotFoundError, RegistryError
from modelport.registry.aliases import AliasMove, move_alias
from modelport.registry.database import Database
from modelport.registry.queries import now, utc
from modelport.registry.tables import endpoint_history, endpoint_plans

#: endpoint history actions
DECLARE = "declare"
PUT = "put"
STEP = "canary_step"
PROMOTE = "promote"
ROLLBACK = "rollback"
ABORT = "abort"
REMOVE = "remove"


@dataclass(frozen=True)
class EndpointRecord:
    """An endpoint's plan as stored: the plan mapping, its revision and the canary state, if any."""

    endpoint: str
    plan: dict[str, Any]
    revision: int
    updated_at: datetime
    updated_by: str
    state: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "plan": self.plan, "revision": self.revision,
                "updated_at": self.updated_at.isoformat(), "updated_by": self.updated_by,
                "state": self.state}


@dataclass(frozen=True)
class EndpointChange:
    """One entry of an endpoint's history: the plan before and after, when, who, why."""

    id: int
    endpoint: str
    at: datetime
    who: str
    action: str
    plan: dict[str, Any] | None
    previous: dict[str, Any] | None
    reason: str | None
    detail: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "endpoint": self.endpoint, "at": self.at.isoformat(), "who": self.who,
                "action": self.action, "plan": self.plan, "previous": self.previous,
                "reason": self.reason, "detail": self.detail}


def _plain(value: Any) -> Any:
    """numpy scalars (gate numbers) as Python numbers; anything else as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=_plain)


def _load(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


class EndpointStore:
    """Reads and writes endpoint plans; ``user`` is who a change is recorded as made by by default."""

    def __init__(self, db: Database, user: str) -> None:
        self.db = db
        self.user = user

    def revisions(self) -> dict[str, int]:
        """Every endpoint's plan revision: what a server polls."""
        with self.db.read(snapshot=False) as conn:
            return {row.endpoint: int(row.revision)
                    for row in conn.execute(select(endpoint_plans.c.endpoint, endpoint_plans.c.revision))}

    def all(self) -> list[EndpointRecord]:
        with self.db.read() as conn:
            rows = conn.execute(select(endpoint_plans).order_by(endpoint_plans.c.endpoint))
            return [self._record(row) for row in rows]

    def get(self, endpoint: str) -> EndpointRecord | None:
        with self.db.read(snapshot=False) as conn:
            return self._get(conn, endpoint)

    def require(self, endpoint: str) -> EndpointRecord:
        found = self.get(endpoint)
        if found is None:
            raise NotFoundError(f"no endpoint named {endpoint!r} has a plan in the registry")
        return found

    def put(self, endpoint: str, plan: dict[str, Any] | None, *, action: str, who: str | None = None,
            reason: str | None = None, detail: dict[str, Any] | None = None,
            expect_revision: int | None = None, keep_state: bool = False,
            alias: AliasMove | None = None) -> EndpointChange:
        """Set (or with ``plan=None`` remove) the endpoint's plan and record why, in one transaction.

        ``expect_revision``: refuse (RegistryError) when the stored revision is another, so two
        writers that read the same plan cannot both act on it. The canary state is reset unless
        ``keep_state``. ``alias``: an alias move made in the same transaction (a promotion, a
        rollback), recorded in the model's history too; the change's detail then says where the
        alias went (``alias``, ``alias_from``, ``alias_to``, and ``to`` as ``name:N`` unless given).
        """
        who = who or self.user
        with self.db.write() as conn:
            current = self._get(conn, endpoint)
            if expect_revision is not None and (current.revision if current else 0) != expect_revision:
                raise RegistryError(f"the plan of endpoint {endpoint!r} changed meanwhile (revision "
                                    f"{current.revision if current else 0}, expected {expect_revision})")
            if alias is not None:
                moved = move_alias(conn, alias, who)
                detail = {"to": f"{alias.name}:{moved.to_version}", **(detail or {}),
                          "alias": f"{alias.name}@{alias.alias}", "alias_from": moved.from_version,
                          "alias_to": moved.to_version}
            at = now()
            if plan is None:
                if current is None:
                    raise NotFoundError(f"no endpoint named {endpoint!r} has a plan in the registry")
                conn.execute(endpoint_plans.delete().where(endpoint_plans.c.endpoint == endpoint))
            elif current is None:
                conn.execute(endpoint_plans.insert().values(
                    endpoint=endpoint, plan=_json(plan), revision=1, state=None, updated_at=at,
                    updated_by=who))
            else:
                values: dict[str, Any] = {"plan": _json(plan), "revision": current.revision + 1,
                                          "updated_at": at, "updated_by": who}
                if not keep_state:
                    values["state"] = None
                conn.execute(update(endpoint_plans).where(endpoint_plans.c.endpoint == endpoint)
                             .values(**values))
            previous = current.plan if current is not None else None
            result = conn.execute(endpoint_history.insert().values(
                endpoint=endpoint, at=at, who=who, action=action, plan=_json(plan),
                previous=_json(previous), reason=reason, detail=_json(detail)))
            key = result.inserted_primary_key
            assert key is not None
            return EndpointChange(int(key[0]), endpoint, at, who, action, plan, previous, reason, detail)

    def set_state(self, endpoint: str, state: dict[str, Any] | None) -> None:
        """Record where the endpoint's canary stands (no history: progress, not a plan change)."""
        with self.db.write() as conn:
            conn.execute(update(endpoint_plans).where(endpoint_plans.c.endpoint == endpoint)
                         .values(state=_json(state)))

    def history(self, endpoint: str, *, actions: tuple[str, ...] | None = None,
                limit: int | None = None) -> list[EndpointChange]:
        """The endpoint's changes, oldest first (the newest ``limit`` when given)."""
        query = select(endpoint_history).where(endpoint_history.c.endpoint == endpoint)
        if actions is not None:
            query = query.where(endpoint_history.c.action.in_(actions))
        query = query.order_by(endpoint_history.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.db.read() as conn:
            rows = list(conn.execute(query))[::-1]
        return [EndpointChange(r.id, r.endpoint, utc(r.at), r.who, r.action, _load(r.plan),
                               _load(r.previous), r.reason, _load(r.detail)) for r in rows]

    @staticmethod
    def _get(conn: Connection, endpoint: str) -> EndpointRecord | None:
        row = conn.execute(select(endpoint_plans).where(endpoint_plans.c.endpoint == endpoint)).first()
        return None if row is None else EndpointStore._record(row)

    @staticmethod
    def _record(row: Any) -> EndpointRecord:
        plan = _load(row.plan)
        assert plan is not None
        return EndpointRecord(row.endpoint, plan, int(row.revision), utc(row.updated_at), row.updated_by,
                              _load(row.state))
