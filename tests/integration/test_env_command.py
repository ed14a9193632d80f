"""``modelport env`` end to end: a real virtualenv from a real sklearn artifact's lock."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from modelport.artifact.lock import LOCK_FILE, Lock
from modelport.cli.main import app
from modelport.deploy.environment import isolated_environ, scripts, verify_inside
from tests.artifacts import credit_artifact, resign

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    """One credit artifact and the environment ``modelport env`` built for it."""
    root = tmp_path_factory.mktemp("env")
    artifact = credit_artifact(root / "credit.artifact")
    result = CliRunner().invoke(app, ["env", str(artifact.path), str(root / "venv"), "--json"])
    return artifact.path, root / "venv", result


def _in_env(venv: Path, code: str) -> str:
    return subprocess.run([str(scripts(venv) / "python"), "-c", code], capture_output=True,
                          text=True, check=True, env=isolated_environ()).stdout.strip()


def test_env_builds_and_the_golden_check_passes_inside(built: tuple[Path, Path, Result]) -> None:
    _, venv, result = built
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["checks"] == {"digests": "ok", "lock": "ok", "golden": "ok"}
    assert Path(report["directory"]) == venv.resolve()


def test_env_holds_exactly_the_lock_and_its_own_modelport(built: tuple[Path, Path, Result]) -> None:
    artifact, venv, _ = built
    lock = Lock.from_text((artifact / LOCK_FILE).read_text())
    frozen = dict(line.split("==") for line in _in_env(
        venv, "import importlib.metadata as m; print('\\n'.join(sorted("
        "f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions())))").splitlines())
    normalized = {k.lower().replace("_", "-"): v for k, v in frozen.items()}
    assert set(normalized) - {"pip", "setuptools", "wheel"} == set(lock.packages) | {"modelport"}
    for name, version in lock.packages.items():
        assert normalized[name] == version
    location = Path(_in_env(venv, "import modelport; print(modelport.__file__)"))
    assert location.is_relative_to(venv.resolve())


def test_a_doctored_golden_row_fails_inside_the_env(built: tuple[Path, Path, Result],
                                                    tmp_path: Path) -> None:
    artifact, venv, _ = built
    doctored = tmp_path / "doctored"
    shutil.copytree(artifact, doctored)
    outputs = doctored / "golden" / "outputs.json"
    data = json.loads(outputs.read_text())
    data["probabilities"][0][0] += 0.5
    outputs.write_text(json.dumps(data))
    resign(doctored)
    checks = verify_inside(venv, doctored)
    assert checks["ok"] is False
    assert checks["digests"] == "ok"
    assert checks["golden"].startswith("FAILED: rows [0]")
