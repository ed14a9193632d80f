"""Settings come from MODELPORT_* variables, with defaults under ~/.modelport."""

from __future__ import annotations

import getpass
from pathlib import Path

from modelport.settings import Settings


def test_defaults_live_under_the_home_folder() -> None:
    settings = Settings.from_env({})
    assert settings.home == Path.home() / ".modelport"
    config = settings.registry_config()
    assert config.url == f"sqlite:///{Path.home() / '.modelport' / 'registry.db'}"
    assert config.artifacts == str(Path.home() / ".modelport" / "artifacts")
    assert config.user == getpass.getuser()


def test_variables_override_each_default(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "MODELPORT_HOME": str(tmp_path),
        "MODELPORT_REGISTRY_URL": "postgresql://db/registry",
        "MODELPORT_ARTIFACTS": str(tmp_path / "blobs"),
        "MODELPORT_USER": "ci-bot",
    })
    config = settings.registry_config()
    assert (config.url, config.artifacts, config.user) == (
        "postgresql://db/registry", str(tmp_path / "blobs"), "ci-bot")


def test_home_alone_moves_the_database_and_the_store(tmp_path: Path) -> None:
    config = Settings.from_env({"MODELPORT_HOME": str(tmp_path)}).registry_config()
    assert config.url == f"sqlite:///{tmp_path / 'registry.db'}"
    assert config.artifacts == str(tmp_path / "artifacts")


def test_the_prediction_log_lives_under_the_home_folder(tmp_path: Path) -> None:
    assert Settings.from_env({"MODELPORT_HOME": str(tmp_path)}).predictions == tmp_path / "predictions"
