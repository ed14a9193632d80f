"""Alias moves inside a transaction the caller holds: the registry API's, or an endpoint plan change's.

:func:`move_alias` locks the model, moves the alias (to a version, or back to its previous live target)
and appends the move to the model's history, all on the caller's connection, so a change that must
move an alias and record something else (a promotion: the alias and the endpoint's plan) commits
both or neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, update

from modelport.core.refs import check_alias
from modelport.errors import ArchivedVersionError, RegistryError
from modelport.registry import queries as q
from modelport.registry.records import ALIAS_ACTIONS, ALIAS_SET, ROLLBACK, HistoryEntry
from modelport.registry.rollback import previous_target
from modelport.registry.tables import aliases

__all__ = ["AliasMove", "move_alias"]


@dataclass(frozen=True)
class AliasMove:
    """Point ``alias`` of model ``name`` at ``version``; a ``rollback`` without a version goes back to
    the alias's previous live target."""

    name: str
    alias: str
    version: int | None = None
    rollback: bool = False
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.version is None and not self.rollback:
            raise ValueError("an alias move needs a version, unless it is a rollback")


def move_alias(conn: Connection, move: AliasMove, who: str) -> HistoryEntry:
    """Make ``move`` on ``conn`` (in the caller's transaction) and return its history entry."""
    check_alias(move.alias, settable=True)
    model = q.model_id(conn, move.name, lock=True)
    number = move.version
    if number is None:
        moves = q.history_entries(conn, move.name, model, alias=move.alias, actions=ALIAS_ACTIONS)
        archived = {v.version for v in q.all_versions(conn, move.name) if v.archived}
        current = q.alias_map(conn, model).get(move.alias)
        number = previous_target(moves, move.name, move.alias, current, archived)
    return _move(conn, model, move, number, ROLLBACK if move.rollback else ALIAS_SET, who)


def _move(conn: Connection, model: int, move: AliasMove, number: int, action: str,
          who: str) -> HistoryEntry:
    name, alias = move.name, move.alias
    target = q.version(conn, name, number)
    if target.archived:
        raise ArchivedVersionError(f"{target.ref} is archived; an alias cannot point at it")
    current = q.alias_map(conn, model).get(alias)
    if action == ROLLBACK and current == number:
        raise RegistryError(f"alias {alias!r} of model {name!r} already points at {number}")
    at = q.now()
    if current is None:
        conn.execute(aliases.insert().values(model_id=model, alias=alias, version=number,
                                             updated_at=at, updated_by=who))
    else:
        conn.execute(update(aliases).where(aliases.c.model_id == model, aliases.c.alias == alias)
                     .values(version=number, updated_at=at, updated_by=who))
    return q.append_history(conn, model, name, who=who, action=action, alias=alias,
                            from_version=current, to_version=number, reason=move.reason, at=at)
