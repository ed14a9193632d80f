"""A registry database that cannot be reached gets RegistryUnavailableError and CLI exit code 5."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelport.cli.main import app
from modelport.errors import RegistryUnavailableError
from modelport.registry.config import RegistryConfig
from modelport.registry.service import Registry


def _config(url: str, tmp_path: Path) -> RegistryConfig:
    return RegistryConfig(url=url, artifacts=str(tmp_path / "store"), user="t", timeout=2)


@pytest.mark.parametrize(("url", "match"), [
    ("postgresql://nobody@127.0.0.1:1/registry", "127.0.0.1:1/registry cannot be reached"),
    ("postgresql://nobody:s3cret@127.0.0.1:1/registry", "nobody:\\*\\*\\*@127.0.0.1:1"),
    ("mysql://127.0.0.1/registry", "unsupported registry database"),
    ("not a url", "invalid registry database URL"),
])
def test_unreachable_or_unsupported_databases_are_named(url: str, match: str,
                                                        tmp_path: Path) -> None:
    with pytest.raises(RegistryUnavailableError, match=match):
        Registry(_config(url, tmp_path)).list_models()


def test_an_unusable_sqlite_path_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RegistryUnavailableError, match="cannot be reached"):
        Registry(_config(f"sqlite:///{blocker}/registry.db", tmp_path)).list_models()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(RegistryUnavailableError, match="not a database"):
        Registry(_config(f"sqlite:///{garbage}", tmp_path)).list_models()


def test_the_cli_exits_5_when_the_registry_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_REGISTRY_URL", "postgresql://nobody@127.0.0.1:1/registry")
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 5
    assert "RegistryUnavailableError" in result.stderr
