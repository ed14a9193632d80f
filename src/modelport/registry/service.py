"""The registry API: register artifacts, resolve refs, move aliases, roll back, archive, tag.

Every change runs in one database transaction that first locks its model (``BEGIN IMMEDIATE`` on
SQLite, the model's row ``FOR UPDATE`` on PostgreSQL) and appends to the history in the same
transaction, so the history holds every change exactly as it happened, or the change did not
happen. Artifacts enter the blob store (verified) before the transaction that names them.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, select, update

from modelport.core.refs import DEFAULT_ALIAS, LATEST, Ref, RefKind, check_alias, check_name, parse_ref
from modelport.errors import ArchivedVersionError, NotFoundError, RegistryError
from modelport.registry import queries as q
from modelport.registry.aliases import AliasMove, move_alias
from modelport.registry.config import RegistryConfig
from modelport.registry.database import Database
from modelport.registry.endpoints import EndpointStore
from modelport.registry.records import (
    ALIAS_REMOVE,
    ARCHIVE,
    REGISTER,
    TAG_REMOVE,
    TAG_SET,
    UNARCHIVE,
    HistoryEntry,
    ModelSummary,
    ModelVersion,
    Resolved,
    VersionDetails,
)
from modelport.registry.store import BlobStore, open_store
from modelport.registry.tables import aliases, models, tags, versions


class Registry:
    """Model names → numbered versions (artifact digests) + aliases + history, over a blob store."""

    def __init__(self, config: RegistryConfig, *, store: BlobStore | None = None) -> None:
        self.config = config
        self.store = store if store is not None else open_store(config.artifacts)
        self.db = Database(config.url, timeout=config.timeout)
        #: endpoint deployment plans, their canary state and history
        self.endpoints = EndpointStore(self.db, config.user)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _who(self, who: str | None) -> str:
        return who or self.config.user

    # -- registering ---------------------------------------------------------------------------

    def register(self, path: str | Path, *, name: str | None = None, who: str | None = None,
                 reason: str | None = None, move: bool = False) -> ModelVersion:
        """Store the artifact at ``path`` and give it the next version of ``name``.

        ``name`` defaults to the name in the artifact's manifest. Registering a digest the name
        already has returns that version and changes nothing. ``move=True`` lets the store
        consume the folder instead of copying it.
        """
        stored = self.store.put(Path(path), move=move)
        name = check_name(name or stored.manifest.name)
        who = self._who(who)
        with self.db.write() as conn:
            model = self._model_for_write(conn, name, who)
            existing = conn.execute(
                q.versions_select().where(versions.c.model_id == model,
                                          versions.c.digest == stored.digest)).first()
            if existing is not None:
                return q.to_version(existing)
            latest = conn.execute(select(versions.c.version).where(versions.c.model_id == model)
                                  .order_by(versions.c.version.desc()).limit(1)).scalar()
            number = (latest or 0) + 1
            at = q.now()
            conn.execute(versions.insert().values(
                model_id=model, version=number, digest=stored.digest,
                flavor=stored.manifest.flavor, task=stored.manifest.task, archived=False,
                created_at=at, created_by=who))
            manifest_tags = stored.manifest.lineage.get("tags") or {}
            for key, value in sorted(manifest_tags.items()):
                conn.execute(tags.insert().values(model_id=model, version=number, key=str(key),
                                                  value=str(value)))
            q.append_history(conn, model, name, who=who, action=REGISTER, version=number,
                             to_version=number, reason=reason, at=at,
                             detail={"digest": stored.digest})
            return q.version(conn, name, number)

    def _model_for_write(self, conn: Connection, name: str, who: str) -> int:
        """The model's id, creating it if new, locked for the rest of the transaction."""
        self.db.insert_ignoring_conflicts(conn, models, {"name": name, "created_at": q.now(),
                                                         "created_by": who})
        return q.model_id(conn, name, lock=True)

    # -- resolving -----------------------------------------------------------------------------

    def resolve(self, ref: str | Path | Ref, *, allow_archived: bool = False,
                verify: bool = False) -> Resolved:
        """The version a ref names (None for a plain path) and the folder holding its artifact.

        Archived versions resolve only with ``allow_archived`` (to inspect them, not to serve).
        ``verify`` re-checks every file's digest; the manifest's digest is always checked.
        """
        if isinstance(ref, Path):
            return self._path(ref)
        parsed = ref if isinstance(ref, Ref) else parse_ref(ref)
        if parsed.kind is RefKind.PATH:
            return self._path(Path(parsed.text))
        if parsed.kind is RefKind.DIGEST:
            assert parsed.digest is not None
            with self.db.read(snapshot=False) as conn:
                found = q.by_digest(conn, parsed.digest)
            if found is None and not self.store.contains(parsed.digest):
                raise NotFoundError(f"no artifact with digest sha256:{parsed.digest} is registered")
            return Resolved(found, self.store.fetch(parsed.digest, verify=verify))
        try:
            version = self.version_for(parsed)
        except NotFoundError:
            if parsed.kind is RefKind.NAME and Path(parsed.text).exists():
                return self._path(Path(parsed.text))
            raise
        if version.archived and not allow_archived:
            raise ArchivedVersionError(f"{version.ref} is archived: it is kept but not served "
                                       "(unarchive it to serve it again)")
        return Resolved(version, self.store.fetch(version.digest, verify=verify))

    def version_for(self, ref: Ref) -> ModelVersion:
        """The registered version a name, ``name:N`` or ``name@alias`` ref names."""
        assert ref.name is not None
        with self.db.read(snapshot=False) as conn:
            if ref.kind is RefKind.VERSION:
                assert ref.version is not None
                return q.version(conn, ref.name, ref.version)
            if ref.kind is RefKind.ALIAS and ref.alias != LATEST:
                assert ref.alias is not None
                found = q.alias_target(conn, ref.name, ref.alias)
                if found is None:
                    q.model_id(conn, ref.name)
                    raise NotFoundError(f"model {ref.name!r} has no alias {ref.alias!r}")
                return found
            if ref.kind is RefKind.NAME:
                found = q.alias_target(conn, ref.name, DEFAULT_ALIAS)
                if found is not None:
                    return found
            found = q.latest_live(conn, ref.name)
            if found is None:
                q.model_id(conn, ref.name)
                raise ArchivedVersionError(f"every version of model {ref.name!r} is archived")
            return found

    @staticmethod
    def _path(path: Path) -> Resolved:
        path = path.expanduser()
        if not path.exists():
            raise NotFoundError(f"no artifact folder or .tar at {path}")
        return Resolved(None, path)

    # -- aliases -------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int, *, who: str | None = None,
                  reason: str | None = None) -> HistoryEntry:
        """Point ``alias`` at ``version`` (a live version) and record the move."""
        with self.db.write() as conn:
            return move_alias(conn, AliasMove(name, alias, version, reason=reason), self._who(who))

    def remove_alias(self, name: str, alias: str, *, who: str | None = None,
                     reason: str | None = None) -> HistoryEntry:
        check_alias(alias)
        with self.db.write() as conn:
            model = q.model_id(conn, name, lock=True)
            current = q.alias_map(conn, model).get(alias)
            if current is None:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}")
            conn.execute(aliases.delete().where(aliases.c.model_id == model,
                                                aliases.c.alias == alias))
            return q.append_history(conn, model, name, who=self._who(who), action=ALIAS_REMOVE,
                                    alias=alias, from_version=current, reason=reason)

    def rollback(self, name: str, *, alias: str = DEFAULT_ALIAS, to: int | None = None,
                 who: str | None = None, reason: str | None = None) -> HistoryEntry:
        """Move ``alias`` back to its previous live target (or to version ``to``)."""
        with self.db.write() as conn:
            return move_alias(conn, AliasMove(name, alias, to, rollback=True, reason=reason),
                                self._who(who))

    # -- archiving and tags ----------------------------------------------------------------------

    def archive(self, name: str, version: int, *, who: str | None = None,
                reason: str | None = None) -> ModelVersion:
        """Keep the version but stop serving it; refused while an alias points at it."""
        with self.db.write() as conn:
            model = q.model_id(conn, name, lock=True)
            target = q.version(conn, name, version)
            pointing = sorted(a for a, v in q.alias_map(conn, model).items() if v == version)
            if pointing:
                raise RegistryError(f"cannot archive {target.ref}: alias(es) {', '.join(pointing)} "
                                    "point at it; move or remove them first")
            return self._set_archived(conn, model, target, True, self._who(who), reason)

    def unarchive(self, name: str, version: int, *, who: str | None = None,
                  reason: str | None = None) -> ModelVersion:
        with self.db.write() as conn:
            model = q.model_id(conn, name, lock=True)
            target = q.version(conn, name, version)
            return self._set_archived(conn, model, target, False, self._who(who), reason)

    @staticmethod
    def _set_archived(conn: Connection, model: int, target: ModelVersion, archived: bool,
                      who: str, reason: str | None) -> ModelVersion:
        if target.archived == archived:
            return target
        conn.execute(update(versions).where(versions.c.model_id == model,
                                            versions.c.version == target.version)
                     .values(archived=archived))
        q.append_history(conn, model, target.name, who=who,
                         action=ARCHIVE if archived else UNARCHIVE,
                         version=target.version, reason=reason)
        return q.version(conn, target.name, target.version)

    def set_tag(self, name: str, version: int, key: str, value: str, *, who: str | None = None,
                reason: str | None = None) -> None:
        if not key or len(key) > 128:
            raise RegistryError(f"invalid tag key {key!r}: 1-128 characters")
        with self.db.write() as conn:
            model = q.model_id(conn, name, lock=True)
            q.version(conn, name, version)
            old = q.tag_map(conn, model, version).get(version, {}).get(key)
            if old == value:
                return
            where = (tags.c.model_id == model) & (tags.c.version == version) & (tags.c.key == key)
            if old is None:
                conn.execute(tags.insert().values(model_id=model, version=version, key=key,
                                                  value=value))
            else:
                conn.execute(update(tags).where(where).values(value=value))
            q.append_history(conn, model, name, who=self._who(who), action=TAG_SET, version=version,
                             reason=reason, detail={"key": key, "from": old, "to": value})

    def remove_tag(self, name: str, version: int, key: str, *, who: str | None = None,
                   reason: str | None = None) -> None:
        with self.db.write() as conn:
            model = q.model_id(conn, name, lock=True)
            old = q.tag_map(conn, model, version).get(version, {}).get(key)
            if old is None:
                raise NotFoundError(f"{name}:{version} has no tag {key!r}")
            conn.execute(tags.delete().where(tags.c.model_id == model, tags.c.version == version,
                                             tags.c.key == key))
            q.append_history(conn, model, name, who=self._who(who), action=TAG_REMOVE, version=version,
                             reason=reason, detail={"key": key, "from": old, "to": None})

    # -- reading ---------------------------------------------------------------------------------

    def list_models(self) -> list[ModelSummary]:
        with self.db.read() as conn:
            return q.summaries(conn)

    def list_versions(self, name: str) -> list[VersionDetails]:
        """Every version of ``name``, oldest first, with its aliases and tags."""
        with self.db.read() as conn:
            model = q.model_id(conn, name)
            alias_map = q.alias_map(conn, model)
            tag_map = q.tag_map(conn, model)
            return [VersionDetails(v, tuple(a for a, n in alias_map.items() if n == v.version),
                                   tag_map.get(v.version, {}))
                    for v in q.all_versions(conn, name)]

    def details(self, version: ModelVersion) -> VersionDetails:
        with self.db.read() as conn:
            model = q.model_id(conn, version.name)
            alias_map = q.alias_map(conn, model)
            tag_map = q.tag_map(conn, model, version.version)
        return VersionDetails(version, tuple(a for a, n in alias_map.items()
                                             if n == version.version),
                              tag_map.get(version.version, {}))

    def aliases_of(self, name: str) -> dict[str, int]:
        with self.db.read() as conn:
            return q.alias_map(conn, q.model_id(conn, name))

    def history(self, name: str, *, alias: str | None = None,
                limit: int | None = None) -> list[HistoryEntry]:
        """Changes to ``name``, oldest first (the newest ``limit`` when given)."""
        with self.db.read() as conn:
            return q.history_entries(conn, name, q.model_id(conn, name), alias=alias, limit=limit)
