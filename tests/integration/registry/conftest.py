"""The registry suite runs on both databases: SQLite in a temp folder, and a fresh PostgreSQL database.

PostgreSQL comes from the server ``scripts/postgres.sh start`` runs (``make test`` starts it and
exports MODELPORT_TEST_POSTGRES_URL). Without one, PostgreSQL tests skip locally and FAIL under
CI=true, so a CI run can never pass without having tested PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

import modelport
from modelport.artifact.files import MANIFEST
from modelport.registry.config import RegistryConfig
from modelport.registry.service import Registry
from tests.artifacts import resign, small_classifier

POSTGRES_URL_VARIABLE = "MODELPORT_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

MakeArtifact = Callable[..., Path]


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the test PostgreSQL server, checked to answer."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        message = (f"{POSTGRES_URL_VARIABLE} is not set: run `bash scripts/postgres.sh start` and "
                   "export the URL it prints (make test does both)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.fail(f"the PostgreSQL server at {url} does not answer: {exc}")
    return url


def _fresh_postgres_database(server: str) -> tuple[str, Callable[[], None]]:
    name = f"modelport_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, drop


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A registry database nobody has used: SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    url, drop = _fresh_postgres_database(request.getfixturevalue("postgres_server"))
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> RegistryConfig:
    return RegistryConfig(url=database_url, artifacts=str(tmp_path / "store"), user="tester")


@pytest.fixture
def registry(config: RegistryConfig) -> Iterator[Registry]:
    with Registry(config) as opened:
        yield opened


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the environment (and so the CLI) at the test database."""
    monkeypatch.setenv("MODELPORT_REGISTRY_URL", database_url)
    monkeypatch.setenv("MODELPORT_USER", "cli-user")
    return database_url


@pytest.fixture(scope="session")
def base_artifact(tmp_path_factory: pytest.TempPathFactory) -> modelport.Artifact:
    """One small real artifact, packed once; tests register re-signed copies of it."""
    artifact, _ = small_classifier(tmp_path_factory.mktemp("base") / "small")
    return artifact


def make_variant(base: Path, target: Path, *, name: str, variant: int) -> Path:
    """A valid artifact with its own digest: ``base`` with another name and a variant tag."""
    shutil.copytree(base, target)
    manifest = json.loads((target / MANIFEST).read_text())
    lineage = dict(manifest["lineage"], tags={"variant": str(variant)})
    resign(target, name=name, lineage=lineage)
    return target


@pytest.fixture
def make_artifact(base_artifact: modelport.Artifact, tmp_path: Path) -> MakeArtifact:
    """``make_artifact(i, name="churn")``: the i-th distinct artifact of a model."""

    def make(variant: int, name: str = "churn") -> Path:
        return make_variant(base_artifact.path, tmp_path / "artifacts" / f"{name}-{variant}",
                            name=name, variant=variant)

    return make
