"""``modelport env`` before any virtualenv is built: what it installs, refuses and strips."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelport.artifact.lock import Lock
from modelport.cli.main import app
from modelport.deploy.environment import isolated_environ, prepare, requirements_text
from modelport.errors import DeployError
from tests.artifacts import credit_artifact

runner = CliRunner()


def test_requirements_are_the_lock_pins_and_nothing_else() -> None:
    lock = Lock.from_text("# python==3.11.7\n# platform==linux-x86_64\nnumpy==2.0.1\nPandas==2.2.0\n")
    assert requirements_text(lock) == "numpy==2.0.1\npandas==2.2.0\n"


def test_isolated_environ_hides_the_host_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere/src")
    monkeypatch.setenv("VIRTUAL_ENV", "/host/venv")
    monkeypatch.setenv("MODELPORT_KEEP", "yes")
    env = isolated_environ()
    assert "PYTHONPATH" not in env
    assert "VIRTUAL_ENV" not in env
    assert env["PYTHONNOUSERSITE"] == "1"
    assert env["MODELPORT_KEEP"] == "yes"


def test_prepare_replaces_only_a_virtualenv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    with pytest.raises(DeployError, match="pass --force"):
        prepare(venv, overwrite=False)
    prepare(venv, overwrite=True)
    assert not venv.exists()
    project = tmp_path / "project"
    project.mkdir()
    (project / "keep.txt").write_text("mine")
    with pytest.raises(DeployError, match="not a virtualenv"):
        prepare(project, overwrite=True)
    assert (project / "keep.txt").read_text() == "mine"


def test_tampered_artifact_is_refused_before_anything_is_installed(tmp_path: Path) -> None:
    artifact = credit_artifact(tmp_path / "art", rows=200)
    lock = artifact.path / "requirements.lock"
    lock.write_text(lock.read_text() + "evil-package==1.0\n")
    result = runner.invoke(app, ["env", str(artifact.path), str(tmp_path / "venv")])
    assert result.exit_code == 4
    assert "requirements.lock" in result.output
    assert not (tmp_path / "venv").exists()


def test_occupied_folder_exits_with_the_deploy_code(tmp_path: Path) -> None:
    artifact = credit_artifact(tmp_path / "art", rows=200)
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("x")
    result = runner.invoke(app, ["env", str(artifact.path), str(target), "--force"])
    assert result.exit_code == 7
    assert "not a virtualenv" in result.output
    assert (target / "notes.txt").exists()


def test_missing_interpreter_is_a_deploy_error(tmp_path: Path) -> None:
    artifact = credit_artifact(tmp_path / "art", rows=200)
    result = runner.invoke(app, ["env", str(artifact.path), str(tmp_path / "venv"),
                                 "--python", str(tmp_path / "no-such-python")])
    assert result.exit_code == 7
    assert "creating the virtualenv failed" in " ".join(result.output.split())
