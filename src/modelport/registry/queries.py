"""Reads and the history append, each on a connection the service holds inside a transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, case, func, select

from modelport.errors import NotFoundError
from modelport.registry.records import HistoryEntry, ModelSummary, ModelVersion
from modelport.registry.tables import aliases, history, models, tags, versions

_VERSION_COLUMNS = (models.c.name, versions.c.version, versions.c.digest, versions.c.flavor,
                    versions.c.task, versions.c.archived, versions.c.created_at,
                    versions.c.created_by)


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)


def to_version(row: Row[Any]) -> ModelVersion:
    return ModelVersion(name=row.name, version=row.version, digest=row.digest, flavor=row.flavor,
                        task=row.task, archived=bool(row.archived), created_at=utc(row.created_at),
                        created_by=row.created_by)


def versions_select() -> Select[Any]:
    return select(*_VERSION_COLUMNS).join_from(versions, models,
                                               versions.c.model_id == models.c.id)


# The hot reads (every resolve runs one) are built once, with bound parameters, so a resolve
# pays neither statement construction nor cache-key generation.
_MODEL_ID = select(models.c.id).where(models.c.name == bindparam("name"))
_MODEL_ID_LOCKED = _MODEL_ID.with_for_update()
_VERSION = versions_select().where(models.c.name == bindparam("name"),
                                   versions.c.version == bindparam("version"))
_ALIAS_TARGET = (versions_select()
                 .join(aliases, (aliases.c.model_id == versions.c.model_id)
                       & (aliases.c.version == versions.c.version))
                 .where(models.c.name == bindparam("name"), aliases.c.alias == bindparam("alias")))
_LATEST_LIVE = (versions_select()
                .where(models.c.name == bindparam("name"), versions.c.archived.is_(False))
                .order_by(versions.c.version.desc()).limit(1))
_BY_DIGEST = (versions_select().where(versions.c.digest == bindparam("digest"))
              .order_by(versions.c.model_id, versions.c.version).limit(1))


def model_id(conn: Connection, name: str, *, lock: bool = False) -> int:
    """The model's id; ``lock`` holds its row until the transaction ends (PostgreSQL)."""
    found = conn.execute(_MODEL_ID_LOCKED if lock else _MODEL_ID, {"name": name}).scalar()
    if found is None:
        raise NotFoundError(f"no model named {name!r} in the registry")
    return int(found)


def version(conn: Connection, name: str, number: int) -> ModelVersion:
    row = conn.execute(_VERSION, {"name": name, "version": number}).first()
    if row is None:
        model_id(conn, name)
        raise NotFoundError(f"model {name!r} has no version {number}")
    return to_version(row)


def alias_target(conn: Connection, name: str, alias: str) -> ModelVersion | None:
    row = conn.execute(_ALIAS_TARGET, {"name": name, "alias": alias}).first()
    return None if row is None else to_version(row)


def latest_live(conn: Connection, name: str) -> ModelVersion | None:
    row = conn.execute(_LATEST_LIVE, {"name": name}).first()
    return None if row is None else to_version(row)


def by_digest(conn: Connection, digest: str) -> ModelVersion | None:
    row = conn.execute(_BY_DIGEST, {"digest": digest}).first()
    return None if row is None else to_version(row)


def all_versions(conn: Connection, name: str) -> list[ModelVersion]:
    rows = conn.execute(versions_select().where(models.c.name == name)
                        .order_by(versions.c.version)).all()
    return [to_version(r) for r in rows]


def alias_map(conn: Connection, model: int) -> dict[str, int]:
    rows = conn.execute(select(aliases.c.alias, aliases.c.version)
                        .where(aliases.c.model_id == model).order_by(aliases.c.alias)).all()
    return {r.alias: r.version for r in rows}


def tag_map(conn: Connection, model: int, number: int | None = None) -> dict[int, dict[str, str]]:
    query = select(tags.c.version, tags.c.key, tags.c.value).where(tags.c.model_id == model)
    if number is not None:
        query = query.where(tags.c.version == number)
    found: dict[int, dict[str, str]] = {}
    for row in conn.execute(query.order_by(tags.c.version, tags.c.key)):
        found.setdefault(row.version, {})[row.key] = row.value
    return found


def summaries(conn: Connection) -> list[ModelSummary]:
    counts = {r.model_id: r for r in conn.execute(
        select(versions.c.model_id, func.count().label("n"),
               func.sum(case((versions.c.archived, 1), else_=0)).label("archived"),
               func.max(versions.c.version).label("latest"))
        .group_by(versions.c.model_id))}
    alias_rows: dict[int, dict[str, int]] = {}
    for row in conn.execute(select(aliases).order_by(aliases.c.alias)):
        alias_rows.setdefault(row.model_id, {})[row.alias] = row.version
    out = []
    for row in conn.execute(select(models).order_by(models.c.name)):
        count = counts.get(row.id)
        out.append(ModelSummary(
            name=row.name, created_at=utc(row.created_at),
            versions=int(count.n) if count else 0,
            archived=int(count.archived or 0) if count else 0,
            latest=int(count.latest) if count else None,
            aliases=alias_rows.get(row.id, {})))
    return out


def append_history(conn: Connection, model: int, name: str, *, who: str, action: str,
                   version: int | None = None, alias: str | None = None,
                   from_version: int | None = None, to_version: int | None = None,
                   reason: str | None = None, detail: dict[str, Any] | None = None,
                   at: datetime | None = None) -> HistoryEntry:
    at = at or now()
    result = conn.execute(history.insert().values(
        model_id=model, at=at, who=who, action=action, version=version, alias=alias,
        from_version=from_version, to_version=to_version, reason=reason,
        detail=None if detail is None else json.dumps(detail, sort_keys=True)))
    key = result.inserted_primary_key
    assert key is not None
    return HistoryEntry(id=int(key[0]), name=name, at=at, who=who,
                        action=action, version=version, alias=alias, from_version=from_version,
                        to_version=to_version, reason=reason, detail=detail)


def history_entries(conn: Connection, name: str, model: int, *, alias: str | None = None,
                    actions: tuple[str, ...] | None = None,
                    limit: int | None = None) -> list[HistoryEntry]:
    """Entries oldest first; with ``limit``, the newest ``limit`` of them."""
    query = select(history).where(history.c.model_id == model)
    if alias is not None:
        query = query.where(history.c.alias == alias)
    if actions is not None:
        query = query.where(history.c.action.in_(actions))
    query = query.order_by(history.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    rows = list(conn.execute(query))[::-1]
    return [HistoryEntry(id=r.id, name=name, at=utc(r.at), who=r.who, action=r.action,
                         version=r.version, alias=r.alias, from_version=r.from_version,
                         to_version=r.to_version, reason=r.reason,
                         detail=None if r.detail is None else json.loads(r.detail))
            for r in rows]
