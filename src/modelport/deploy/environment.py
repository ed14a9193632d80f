"""Build an isolated virtualenv holding exactly an artifact's lock, and verify the artifact inside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelport.artifact.lock import LOCK_FILE, Lock
from modelport.deploy.source import build_wheel, tail
from modelport.errors import DeployError
from modelport.inference.load import verify

#: variables that would let the host's packages or settings leak into the new environment
LEAKY_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV",
                   "__PYVENV_LAUNCHER__")
CHECKS = ("digests", "lock", "golden")


@dataclass(frozen=True)
class EnvironmentResult:
    """A built virtualenv and what ``modelport verify`` said about the artifact inside it."""

    directory: Path
    python: str
    packed_python: str
    packages: int
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.checks.get("ok") is True

    def to_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "python": self.python,
                "packed_python": self.packed_python, "packages": self.packages,
                "checks": {k: self.checks.get(k, "unchecked") for k in CHECKS}, "ok": self.ok}


def scripts(directory: Path) -> Path:
    """The folder holding a virtualenv's ``python`` and console scripts."""
    return directory / ("Scripts" if os.name == "nt" else "bin")


def isolated_environ() -> dict[str, str]:
    """This process's environment minus what would make the new one see the host's packages."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(step: str, command: Sequence[str], cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the isolated environment, turning a missing program into DeployError."""
    try:
        return subprocess.run(list(command), capture_output=True, text=True, check=False,
                              env=isolated_environ(), cwd=cwd)
    except OSError as exc:
        raise DeployError(step, f"cannot run {command[0]}: {exc.strerror or exc}") from exc


def run_step(step: str, command: Sequence[str]) -> str:
    """Run one build command; its stdout, or DeployError carrying the end of its output."""
    completed = run(step, command)
    if completed.returncode != 0:
        raise DeployError(step, f"{Path(command[0]).name} exited {completed.returncode}",
                          tail(completed.stdout + completed.stderr))
    return completed.stdout


def requirements_text(lock: Lock) -> str:
    """The lock's NAME==VERSION lines, which pip installs as they are."""
    return "".join(f"{name}=={version}\n" for name, version in sorted(lock.packages.items()))


def prepare(directory: Path, *, overwrite: bool) -> None:
    """Refuse a non-empty target unless it is a virtualenv and ``overwrite`` says to replace it."""
    if not directory.exists() or not any(directory.iterdir()):
        return
    if overwrite and (directory / "pyvenv.cfg").is_file():
        shutil.rmtree(directory)
        return
    reason = (f"{directory} exists and is not a virtualenv; choose an empty folder" if overwrite
              else f"{directory} exists and is not empty (pass --force to replace a virtualenv)")
    raise DeployError("preparing the environment folder", reason)


def verify_inside(directory: Path, artifact: Path) -> dict[str, Any]:
    """Run ``modelport verify --json`` with the environment's own interpreter and packages."""
    command = [str(scripts(directory) / "modelport"), "verify", str(artifact), "--json"]
    completed = run("verifying inside the environment", command, cwd=directory)
    lines = completed.stdout.strip().splitlines()
    try:
        checks: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise DeployError("verifying inside the environment", f"modelport verify exited "
                          f"{completed.returncode} without a result",
                          tail(completed.stdout + completed.stderr)) from None
    return checks


def _quiet(message: str) -> None:
    """Default progress callback: say nothing."""


def build_environment(artifact: Path, directory: Path, *, python: Path | None = None,
                      modelport_source: Path | None = None, overwrite: bool = False,
                      progress: Callable[[str], None] = _quiet) -> EnvironmentResult:
    """Create a virtualenv at ``directory`` from ``artifact``'s lock and verify the artifact there.

    The artifact's digests are checked first, so only a lock it really holds is installed. The
    lock is installed with ``--no-deps`` (exactly those versions) and ``pip check`` proves it is
    complete; modelport itself follows, also without dependencies.
    """
    artifact, directory = artifact.resolve(), directory.resolve()
    verified = verify(artifact, allow_env_mismatch=True)
    lock = Lock.from_text((verified.root / LOCK_FILE).read_text())
    prepare(directory, overwrite=overwrite)
    interpreter = str(python or sys.executable)
    bin_dir = scripts(directory)
    progress(f"creating a virtualenv in {directory} with {interpreter}")
    run_step("creating the virtualenv", [interpreter, "-m", "venv", str(directory)])
    pip = [str(bin_dir / "python"), "-m", "pip"]
    with tempfile.TemporaryDirectory(prefix="modelport-env-") as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(requirements_text(lock))
        progress(f"installing the {len(lock.packages)} locked packages")
        run_step("installing the lock", [*pip, "install", "--no-deps", "--no-input", "-r",
                                         str(requirements)])
        run_step("checking the lock is complete", [*pip, "check"])
        progress("installing modelport")
        wheel = build_wheel(Path(scratch) / "dist", modelport_source)
        run_step("installing modelport", [*pip, "install", "--no-deps", "--no-input", str(wheel)])
    version = run_step("reading the environment's python version", [
        str(bin_dir / "python"), "-c", "import platform; print(platform.python_version())"])
    progress("verifying the artifact inside the environment")
    checks = verify_inside(directory, artifact)
    return EnvironmentResult(directory, version.strip(), lock.python, len(lock.packages), checks)
