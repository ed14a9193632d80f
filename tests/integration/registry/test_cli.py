"""The registry from the command line, on both databases: pack registers, aliases move, refs work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from modelport.cli.main import app
from modelport.errors import NotFoundError
from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.data import numeric_classification
from tests.integration.registry.conftest import MakeArtifact

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result.stdout


@pytest.fixture
def env_registry(cli_env: str) -> Iterator[Registry]:
    """The registry the CLI sees (same database and artifact store)."""
    with Registry(Settings.from_env().registry_config()) as registry:
        yield registry


@pytest.fixture
def model_files(tmp_path: Path) -> tuple[Path, Path]:
    x, y = numeric_classification(120)
    model_file = tmp_path / "model.skops"
    sio.dump(LogisticRegression().fit(x, y), model_file)
    sample = tmp_path / "sample.csv"
    x.assign(y=y).to_csv(sample, index=False)
    return model_file, sample


def test_pack_registers_and_prints_name_version(env_registry: Registry,
                                                 model_files: tuple[Path, Path]) -> None:
    model_file, sample = model_files
    common = [str(model_file), "--name", "churn", "--sample", str(sample), "--label-column", "y"]
    assert run("pack", *common) == "churn:1\n"
    assert run("pack", *common, "--tag", "team=risk", "--alias", "candidate") == "churn:2\n"
    assert env_registry.aliases_of("churn") == {"candidate": 2}
    assert env_registry.list_versions("churn")[1].tags == {"team": "risk"}
    history = env_registry.history("churn")
    assert [e.who for e in history] == ["cli-user"] * 3  # two registrations, one alias move
    home = Settings.from_env().home
    assert not [p for p in home.iterdir() if p.name.startswith(".pack-")]  # scratch is gone


def test_pack_can_keep_a_folder_or_skip_the_registry(env_registry: Registry,
                                                     model_files: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    model_file, sample = model_files
    common = [str(model_file), "--name", "churn", "--sample", str(sample), "--label-column", "y"]
    out = run("pack", *common, "--out", str(tmp_path / "kept"), "--no-register")
    assert "packed churn" in out
    assert (tmp_path / "kept" / "manifest.json").is_file()
    with pytest.raises(NotFoundError, match="no model named 'churn'"):
        env_registry.list_versions("churn")
    assert run("pack", *common, "--out", str(tmp_path / "kept2")) == "churn:1\n"
    assert (tmp_path / "kept2" / "manifest.json").is_file()
    result = runner.invoke(app, ["pack", *common, "--no-register"])
    assert result.exit_code == 2
    assert "--no-register need --out" in result.output


def test_alias_rollback_and_history_from_the_cli(env_registry: Registry,
                                                 make_artifact: MakeArtifact) -> None:
    for i in (1, 2, 3):
        env_registry.register(make_artifact(i))
    run("alias", "set", "churn", "production", "1")
    assert "churn@production: 1 → 2" in run("alias", "set", "churn", "production", "2",
                                            "--reason", "better")
    run("alias", "set", "churn", "production", "3", "--user", "dana")
    assert "churn@production: 3 → 2" in run("rollback", "churn", "--reason", "p99 latency")
    assert "→ 1" in run("rollback", "churn", "--to", "1")
    run("alias", "set", "churn", "shadow", "3")
    run("alias", "rm", "churn", "shadow", "--reason", "done")
    history = json.loads(run("history", "churn", "--json"))
    moves = [(h["action"], h["alias"], h["from_version"], h["to_version"], h["who"], h["reason"])
             for h in history if h["alias"]]
    assert moves == [
        ("alias_set", "production", None, 1, "cli-user", None),
        ("alias_set", "production", 1, 2, "cli-user", "better"),
        ("alias_set", "production", 2, 3, "dana", None),
        ("rollback", "production", 3, 2, "cli-user", "p99 latency"),
        ("rollback", "production", 2, 1, "cli-user", None),
        ("alias_set", "shadow", None, 3, "cli-user", None),
        ("alias_remove", "shadow", 3, None, "cli-user", "done"),
    ]
    assert "rollback" in run("history", "churn")
    assert len(json.loads(run("history", "churn", "--alias", "shadow", "--json"))) == 2
    assert env_registry.aliases_of("churn") == {"production": 1}


def test_models_list_and_show_as_json(env_registry: Registry, make_artifact: MakeArtifact) -> None:
    for i in (1, 2):
        env_registry.register(make_artifact(i))
    env_registry.register(make_artifact(1, name="fraud"))
    run("alias", "set", "churn", "production", "1")
    listed = {m["name"]: m for m in json.loads(run("models", "list", "--json"))}
    assert listed["churn"]["versions"] == 2
    assert listed["churn"]["aliases"] == {"production": 1}
    assert "fraud" in run("models", "list")
    model = json.loads(run("models", "show", "churn", "--json"))
    assert model["serves"] == 1
    assert [v["version"] for v in model["versions"]] == [1, 2]
    version = json.loads(run("models", "show", "churn@production", "--json"))
    assert version["ref"] == "churn:1"
    assert version["aliases"] == ["production"]
    assert version["tags"] == {"variant": "1"}
    assert Path(version["path"]).is_dir()
    assert "churn:2" in run("models", "show", "churn:2")


def test_inspect_verify_and_predict_take_registered_refs(env_registry: Registry,
                                                         make_artifact: MakeArtifact,
                                                         tmp_path: Path) -> None:
    env_registry.register(make_artifact(1))
    run("alias", "set", "churn", "production", "1")
    inspected = json.loads(run("inspect", "churn@production", "--json"))
    assert inspected["version"]["ref"] == "churn:1"
    assert inspected["golden"] == "ok"
    assert "registered as" in run("inspect", "churn")
    assert json.loads(run("verify", "churn:1", "--json"))["ok"] is True
    rows = tmp_path / "rows.csv"
    x, _ = numeric_classification(5, seed=3)
    x.to_csv(rows, index=False)
    lines = run("predict", "churn", str(rows)).splitlines()
    assert len(lines) == 5
    assert "prediction" in json.loads(lines[0])
    path_output = run("predict", str(make_artifact(2)), str(rows))
    assert len(path_output.splitlines()) == 5


@pytest.mark.parametrize(("args", "code", "message"), [
    (["models", "show", "nope"], 3, "no model named 'nope'"),
    (["models", "show", "churn:x"], 2, "positive integers"),
    (["alias", "set", "churn", "production", "9"], 3, "has no version 9"),
    (["alias", "set", "churn", "latest", "1"], 2, "reserved"),
    (["rollback", "churn"], 3, "no earlier live target"),
    (["history", "ghost"], 3, "no model named 'ghost'"),
])
def test_bad_input_exits_non_zero_and_names_the_problem(
        env_registry: Registry, make_artifact: MakeArtifact, args: list[str], code: int,
        message: str) -> None:
    env_registry.register(make_artifact(1))
    result = runner.invoke(app, args)
    assert result.exit_code == code
    assert message in " ".join(result.stderr.split())  # rich wraps long lines


def test_archived_versions_are_not_served_from_the_cli(env_registry: Registry,
                                                       make_artifact: MakeArtifact,
                                                       tmp_path: Path) -> None:
    for i in (1, 2):
        env_registry.register(make_artifact(i))
    assert "churn:1 archived" in run("archive", "churn", "1", "--reason", "leak")
    rows = tmp_path / "rows.csv"
    numeric_classification(3)[0].to_csv(rows, index=False)
    result = runner.invoke(app, ["predict", "churn:1", str(rows)])
    assert result.exit_code == 5
    assert "archived" in result.stderr
    assert json.loads(run("inspect", "churn:1", "--json"))["version"]["archived"] is True
    result = runner.invoke(app, ["alias", "set", "churn", "production", "1"])
    assert result.exit_code == 5
    assert "churn:1 live" in run("archive", "churn", "1", "--undo")
    assert len(run("predict", "churn:1", str(rows)).splitlines()) == 3
