"""``modelport dockerfile``: a complete build context that installs exactly the artifact's lock."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modelport
from modelport.artifact.archive import write_tar
from modelport.artifact.lock import LOCK_FILE, Lock
from modelport.cli.main import app
from modelport.deploy.dockerfile import write_context
from modelport.deploy.source import build_wheel
from tests.artifacts import credit_artifact

runner = CliRunner()
SOURCE = Path(__file__).resolve().parents[3] / "src" / "modelport"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """modelport's wheel built once from the running source tree (the default source)."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> modelport.Artifact:
    return credit_artifact(tmp_path_factory.mktemp("art") / "credit.artifact", rows=200)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for every non-comment line."""
    found = []
    for line in dockerfile.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word, rest))
    return found


def test_every_copied_path_is_in_the_context(artifact: modelport.Artifact, wheel: Path,
                                             tmp_path: Path) -> None:
    context = write_context(artifact.path, tmp_path / "ctx", modelport_source=wheel)
    copies = [rest.split()[0] for word, rest in instructions(context.directory / "Dockerfile")
              if word in ("COPY", "ADD")]
    assert len(copies) == 3
    for source in copies:
        assert (context.directory / source).exists(), source


def test_the_lock_inside_is_the_artifacts_and_the_base_is_its_python(
        artifact: modelport.Artifact, wheel: Path, tmp_path: Path) -> None:
    context = write_context(artifact.path, tmp_path / "ctx", modelport_source=wheel)
    lock_bytes = (artifact.path / LOCK_FILE).read_bytes()
    assert (context.directory / LOCK_FILE).read_bytes() == lock_bytes
    python = Lock.from_text(lock_bytes.decode()).python
    steps = instructions(context.directory / "Dockerfile")
    assert steps[0] == ("FROM", f"python:{python}-slim")
    runs = [rest for word, rest in steps if word == "RUN"]
    assert f"pip install --no-deps --no-input -r /build/{LOCK_FILE} && pip check" in runs
    assert f"pip install --no-deps --no-input /build/{context.wheel} && rm -rf /build" in runs
    assert "modelport verify /artifact" in runs
    assert steps[-1] == ("CMD", '["modelport", "serve", "/artifact", "--host", "0.0.0.0", '
                                '"--port", "8080"]')


def test_the_artifact_inside_verifies_with_the_same_digest(artifact: modelport.Artifact,
                                                           wheel: Path, tmp_path: Path) -> None:
    context = write_context(artifact.path, tmp_path / "ctx", modelport_source=wheel)
    assert modelport.verify(context.directory / "artifact").digest == artifact.digest
    assert context.digest == artifact.digest
    assert artifact.digest in (context.directory / "Dockerfile").read_text()


def test_the_default_wheel_is_built_from_the_running_source(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packed = archive.read("modelport/deploy/dockerfile.py")
        names = archive.namelist()
    assert packed == (SOURCE / "deploy" / "dockerfile.py").read_bytes()
    assert "modelport/artifact/flavors/pyfunc.py" in names
    assert not [n for n in names if "__pycache__" in n]


def test_a_tar_artifact_and_a_chosen_base_image(artifact: modelport.Artifact, wheel: Path,
                                                tmp_path: Path) -> None:
    archive = write_tar(artifact.path, tmp_path / "credit.tar")
    context = write_context(archive, tmp_path / "ctx", modelport_source=wheel,
                            base_image="registry.example/python:3.11.7-slim")
    assert instructions(context.directory / "Dockerfile")[0] == (
        "FROM", "registry.example/python:3.11.7-slim")
    assert modelport.verify(context.directory / "artifact").digest == artifact.digest


def test_cli_writes_refuses_and_replaces(artifact: modelport.Artifact, wheel: Path,
                                         tmp_path: Path) -> None:
    target = tmp_path / "ctx"
    args = ["dockerfile", str(artifact.path), str(target), "--modelport", str(wheel)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert re.search(r"docker build -t modelport-credit:[0-9a-f]{12} ", first.output)
    again = runner.invoke(app, args)
    assert again.exit_code == 7
    assert "pass --force" in " ".join(again.output.split())
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "Dockerfile").write_text("FROM scratch\n")
    refused = runner.invoke(app, ["dockerfile", str(artifact.path), str(foreign), "--force",
                                  "--modelport", str(wheel)])
    assert refused.exit_code == 7
    assert (foreign / "Dockerfile").read_text() == "FROM scratch\n"


def test_cli_refuses_a_tampered_artifact(artifact: modelport.Artifact, wheel: Path,
                                         tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(artifact.path, copy)
    (copy / "golden" / "outputs.json").write_text("{}")
    result = runner.invoke(app, ["dockerfile", str(copy), str(tmp_path / "ctx"),
                                 "--modelport", str(wheel)])
    assert result.exit_code == 4
    assert not (tmp_path / "ctx").exists()


def _local_image(name: str) -> bool:
    found = subprocess.run(["buildah", "images", "--quiet", name], capture_output=True,
                           text=True, check=False)
    return found.returncode == 0 and bool(found.stdout.strip())


@pytest.mark.slow
def test_the_context_builds_with_buildah(artifact: modelport.Artifact, wheel: Path,
                                         tmp_path: Path) -> None:
    python = Lock.from_text((artifact.path / LOCK_FILE).read_text()).python
    base = f"python:{python}-slim"
    needs = f"needs buildah and the base image {base} already present locally"
    if shutil.which("buildah") is None:
        pytest.skip(f"{needs}: buildah is not installed")
    if not _local_image(base):
        pytest.skip(f"{needs}: buildah is installed but {base} is not, and no container "
                    "registry can be reached to pull it")
    context = write_context(artifact.path, tmp_path / "ctx", modelport_source=wheel)
    build = subprocess.run(["buildah", "bud", "--isolation", "chroot", "-t", context.tag,
                            str(context.directory)], capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    subprocess.run(["buildah", "rmi", context.tag], capture_output=True, check=False)
