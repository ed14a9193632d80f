"""The registry API on SQLite and PostgreSQL: versions, refs, aliases, rollback, archive, history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import modelport
from modelport.artifact.archive import write_tar
from modelport.errors import (
    ArchivedVersionError,
    IntegrityError,
    NotFoundError,
    RefError,
    RegistryError,
)
from modelport.registry.config import RegistryConfig
from modelport.registry.service import Registry
from modelport.registry.tables import metadata
from tests.integration.registry.conftest import MakeArtifact


def test_versions_are_consecutive_and_a_known_digest_returns_its_version(
        registry: Registry, make_artifact: MakeArtifact) -> None:
    path = make_artifact(1)
    first = registry.register(path)
    second = registry.register(make_artifact(2))
    again = registry.register(path)
    assert (first.name, first.version, second.version) == ("churn", 1, 2)
    assert first.created_by == "tester"
    assert (again.version, again.digest) == (1, first.digest)
    assert [e.action for e in registry.history("churn")] == ["register", "register"]


def test_a_digest_may_be_registered_under_several_names(registry: Registry,
                                                        make_artifact: MakeArtifact) -> None:
    path = make_artifact(1)
    assert registry.register(path).ref == "churn:1"
    assert registry.register(path, name="fraud").ref == "fraud:1"
    assert registry.resolve(registry.register(path).digest).version is not None


def test_every_ref_form_resolves(registry: Registry, make_artifact: MakeArtifact,
                                 tmp_path: Path) -> None:
    v1 = registry.register(make_artifact(1))
    v2 = registry.register(make_artifact(2))
    assert registry.resolve("churn").version == v2  # no production alias: the latest version
    registry.set_alias("churn", "production", 1)
    assert registry.resolve("churn").version == v1  # the production alias wins
    assert registry.resolve("churn@production").version == v1
    assert registry.resolve("churn@latest").version == v2
    assert registry.resolve("churn:2").version == v2
    assert registry.resolve(v2.digest).version == v2
    assert registry.resolve(f"sha256:{v1.digest}").version == v1
    resolved = registry.resolve("churn:1")
    assert resolved.path.name == v1.digest
    assert modelport.load(resolved.path).digest == v1.digest
    tar = write_tar(make_artifact(3), tmp_path / "three.tar")
    assert registry.resolve(str(tar)) == (None, tar)
    assert registry.resolve(tmp_path / "artifacts" / "churn-3").version is None


def test_bare_folder_name_falls_back_to_a_path_when_no_model_has_it(
        registry: Registry, make_artifact: MakeArtifact, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_artifact(1)
    monkeypatch.chdir(folder.parent)
    assert registry.resolve(folder.name).path == Path(folder.name)
    registry.register(folder, name=folder.name)
    assert registry.resolve(folder.name).version is not None


def test_alias_moves_are_recorded_with_who_why_from_and_to(registry: Registry,
                                                           make_artifact: MakeArtifact) -> None:
    for i in (1, 2):
        registry.register(make_artifact(i))
    registry.set_alias("churn", "production", 1, reason="first release")
    registry.set_alias("churn", "production", 2, who="alice", reason="better AUC")
    registry.remove_alias("churn", "production", who="bob", reason="incident")
    moves = registry.history("churn", alias="production")
    assert [(m.action, m.from_version, m.to_version, m.who, m.reason) for m in moves] == [
        ("alias_set", None, 1, "tester", "first release"),
        ("alias_set", 1, 2, "alice", "better AUC"),
        ("alias_remove", 2, None, "bob", "incident"),
    ]
    assert moves[0].at <= moves[1].at <= moves[2].at
    assert registry.aliases_of("churn") == {}
    assert registry.history("churn", limit=1) == moves[-1:]


def test_rollback_walks_back_through_targets_and_records_why(registry: Registry,
                                                             make_artifact: MakeArtifact) -> None:
    for i in (1, 2, 3):
        registry.register(make_artifact(i))
        registry.set_alias("churn", "production", i)
    entry = registry.rollback("churn", reason="latency regression")
    assert (entry.action, entry.from_version, entry.to_version, entry.reason) == (
        "rollback", 3, 2, "latency regression")
    assert registry.rollback("churn").to_version == 1  # further back, not a toggle to 3
    with pytest.raises(NotFoundError, match="no earlier live target"):
        registry.rollback("churn")
    assert registry.rollback("churn", to=3).to_version == 3
    assert registry.resolve("churn@production").version.version == 3  # type: ignore[union-attr]


def test_rollback_skips_archived_versions_and_restores_a_removed_alias(
        registry: Registry, make_artifact: MakeArtifact) -> None:
    for i in (1, 2, 3):
        registry.register(make_artifact(i))
        registry.set_alias("churn", "candidate", i)
    registry.set_alias("churn", "candidate", 1)
    registry.archive("churn", 3)
    registry.set_alias("churn", "candidate", 2)
    registry.remove_alias("churn", "candidate")
    assert registry.rollback("churn", alias="candidate").to_version == 2
    assert registry.rollback("churn", alias="candidate").to_version == 1  # 3 is archived
    with pytest.raises(RegistryError, match="already points at 1"):
        registry.rollback("churn", alias="candidate", to=1)


def test_archived_versions_are_kept_but_not_served_or_aliased(registry: Registry,
                                                              make_artifact: MakeArtifact) -> None:
    for i in (1, 2):
        registry.register(make_artifact(i))
    registry.set_alias("churn", "production", 2)
    with pytest.raises(RegistryError, match="production point at it"):
        registry.archive("churn", 2)
    registry.archive("churn", 1, reason="leaky feature")
    with pytest.raises(ArchivedVersionError, match="churn:1 is archived"):
        registry.resolve("churn:1")
    with pytest.raises(ArchivedVersionError, match="cannot point at it"):
        registry.set_alias("churn", "shadow", 1)
    resolved = registry.resolve("churn:1", allow_archived=True)
    assert resolved.version is not None
    assert resolved.version.archived
    assert resolved.path.is_dir()
    registry.remove_alias("churn", "production")
    registry.archive("churn", 2)
    with pytest.raises(ArchivedVersionError, match="every version"):
        registry.resolve("churn")
    registry.unarchive("churn", 1)
    assert registry.resolve("churn").version.version == 1  # type: ignore[union-attr]
    actions = [(e.action, e.version) for e in registry.history("churn") if "archive" in e.action]
    assert actions == [("archive", 1), ("archive", 2), ("unarchive", 1)]


def test_tags_come_from_the_manifest_and_changes_are_recorded(registry: Registry,
                                                               make_artifact: MakeArtifact) -> None:
    version = registry.register(make_artifact(7))
    assert registry.details(version).tags == {"variant": "7"}
    registry.set_tag("churn", 1, "owner", "risk-team", who="carol")
    registry.set_tag("churn", 1, "owner", "fraud-team")
    registry.remove_tag("churn", 1, "variant")
    assert registry.list_versions("churn")[0].tags == {"owner": "fraud-team"}
    details = [e.detail for e in registry.history("churn") if e.action.startswith("tag")]
    assert details == [{"key": "owner", "from": None, "to": "risk-team"},
                       {"key": "owner", "from": "risk-team", "to": "fraud-team"},
                       {"key": "variant", "from": "7", "to": None}]


def test_list_summarises_each_model(registry: Registry, make_artifact: MakeArtifact) -> None:
    for i in (1, 2, 3):
        registry.register(make_artifact(i))
    registry.register(make_artifact(1, name="fraud"))
    registry.set_alias("churn", "production", 2)
    registry.archive("churn", 1)
    summary = {m.name: m for m in registry.list_models()}
    assert (summary["churn"].versions, summary["churn"].latest, summary["churn"].archived) == (3, 3, 1)
    assert summary["churn"].aliases == {"production": 2}
    assert summary["fraud"].to_dict()["latest"] == 1


@pytest.mark.parametrize(("ref", "match"), [
    ("churn:0", "positive integers"),
    ("churn:x", "positive integers"),
    ("churn@", "invalid alias"),
    ("churn:1@production", "both a version and an alias"),
    ("-churn", "invalid model name"),
    ("sha256:abc", "invalid digest"),
    ("", "empty"),
])
def test_malformed_refs_say_what_is_wrong(registry: Registry, ref: str, match: str) -> None:
    with pytest.raises(RefError, match=match):
        registry.resolve(ref)


def test_unknown_names_versions_aliases_and_digests_are_not_found(
        registry: Registry, make_artifact: MakeArtifact) -> None:
    registry.register(make_artifact(1))
    cases = {"nope": "no model named 'nope'", "nope:1": "no model named 'nope'",
             "churn:9": "has no version 9", "churn@shadow": "has no alias 'shadow'",
             "0" * 64: "no artifact with digest", "./missing-folder": "no artifact folder"}
    for ref, match in cases.items():
        with pytest.raises(NotFoundError, match=match):
            registry.resolve(ref)
    with pytest.raises(NotFoundError, match="has no version 4"):
        registry.set_alias("churn", "production", 4)
    with pytest.raises(NotFoundError, match="no model named 'ghost'"):
        registry.rollback("ghost")
    with pytest.raises(NotFoundError, match="has no alias 'production'"):
        registry.remove_alias("churn", "production")


def test_a_failed_change_writes_nothing(registry: Registry, make_artifact: MakeArtifact) -> None:
    registry.register(make_artifact(1))
    before = registry.history("churn")
    with pytest.raises(NotFoundError):
        registry.set_alias("churn", "production", 2)
    with pytest.raises(RefError):
        registry.set_alias("churn", "latest", 1)
    assert registry.history("churn") == before
    assert registry.aliases_of("churn") == {}


def test_a_corrupt_artifact_is_refused_and_leaves_nothing_behind(
        registry: Registry, make_artifact: MakeArtifact, config: RegistryConfig) -> None:
    path = make_artifact(1)
    (path / "golden" / "outputs.json").write_text("{}")
    with pytest.raises(IntegrityError, match="golden/outputs.json"):
        registry.register(path)
    store = Path(registry.config.artifacts)
    assert not store.exists() or os.listdir(store) == []
    assert registry.list_models() == []


def test_a_corrupt_blob_is_named_when_resolved(registry: Registry,
                                               make_artifact: MakeArtifact) -> None:
    version = registry.register(make_artifact(1))
    blob = registry.resolve("churn:1").path
    model_file = next((blob / "model").iterdir())
    model_file.chmod(0o644)
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    assert registry.resolve("churn:1").path == blob  # the cheap check reads the manifest only
    with pytest.raises(IntegrityError, match="changed"):
        registry.resolve("churn:1", verify=True)
    manifest = blob / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text(manifest.read_text().replace('"variant"', '"variant2"'))
    with pytest.raises(IntegrityError, match=f"not to its digest {version.digest}"):
        registry.resolve("churn")


def test_modelport_load_takes_a_registered_ref(registry: Registry,
                                               make_artifact: MakeArtifact) -> None:
    version = registry.register(make_artifact(1))
    registry.set_alias("churn", "production", 1)
    loaded = modelport.load("churn@production", using=registry)
    assert loaded.digest == version.digest
    assert loaded.predict([{"x1": 0.1, "x2": 0.2, "x3": -0.3, "x4": 1.0}]).shape == (1,)


def test_migrations_create_exactly_the_declared_tables(registry: Registry) -> None:
    registry.list_models()
    with registry.db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_reopening_a_registry_keeps_everything(config: RegistryConfig,
                                               make_artifact: MakeArtifact) -> None:
    with Registry(config) as first:
        first.register(make_artifact(1))
        first.set_alias("churn", "production", 1)
    with Registry(config) as second:
        assert second.resolve("churn").version.version == 1  # type: ignore[union-attr]
        assert len(second.history("churn")) == 2
