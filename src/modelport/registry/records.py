"""What the registry returns: plain frozen dataclasses with ``to_dict()`` for JSON output."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from modelport.core.refs import format_version

REGISTER = "register"
ALIAS_SET = "alias_set"
ALIAS_REMOVE = "alias_remove"
ROLLBACK = "rollback"
ARCHIVE = "archive"
UNARCHIVE = "unarchive"
TAG_SET = "tag_set"
TAG_REMOVE = "tag_remove"
#: the actions that move an alias, in the order the history records them
ALIAS_ACTIONS = (ALIAS_SET, ALIAS_REMOVE, ROLLBACK)


def _when(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class ModelVersion:
    """One immutable numbered version of a model: an artifact digest and when it came."""

    name: str
    version: int
    digest: str
    flavor: str
    task: str
    archived: bool
    created_at: datetime
    created_by: str

    @property
    def ref(self) -> str:
        return format_version(self.name, self.version)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "ref": self.ref,
                "digest": self.digest, "flavor": self.flavor, "task": self.task,
                "archived": self.archived, "created_at": _when(self.created_at),
                "created_by": self.created_by}


@dataclass(frozen=True)
class VersionDetails:
    """A version with the aliases that point at it and its tags."""

    version: ModelVersion
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.version.to_dict(), "aliases": list(self.aliases), "tags": dict(self.tags)}


class Resolved(NamedTuple):
    """What a ref names: a registered version (None for a plain path) and the artifact's folder."""

    version: ModelVersion | None
    path: Path


@dataclass(frozen=True)
class HistoryEntry:
    """One change: what, from, to, when, who and why. The history is append-only."""

    id: int
    name: str
    at: datetime
    who: str
    action: str
    version: int | None = None
    alias: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    reason: str | None = None
    detail: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "at": _when(self.at), "who": self.who,
                "action": self.action, "version": self.version, "alias": self.alias,
                "from_version": self.from_version, "to_version": self.to_version,
                "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class ModelSummary:
    """A model name at a glance: how many versions, the newest, and its aliases."""

    name: str
    created_at: datetime
    versions: int
    archived: int
    latest: int | None
    aliases: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "created_at": _when(self.created_at), "versions": self.versions,
                "archived": self.archived, "latest": self.latest, "aliases": dict(self.aliases)}
