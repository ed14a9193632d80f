"""modelport's own code for a deployment target: a wheel of the running source tree, or one given."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from modelport.errors import DeployError

#: what a wheel build needs from the source tree; build outputs and caches stay behind
TREE_FILES = ("pyproject.toml", "README.md", "LICENSE")
OUTPUT_TAIL = 4000


def tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    """The end of a long command output, where the error usually is."""
    return text if len(text) <= limit else "…" + text[-limit:]


def project_root() -> Path:
    """The source tree the running modelport was imported from (``ROOT/src/modelport``)."""
    package = Path(__file__).resolve().parents[1]
    root = package.parents[1]
    pyproject = root / "pyproject.toml"
    if package.parent.name == "src" and pyproject.is_file():
        project = tomllib.loads(pyproject.read_text()).get("project", {})
        if project.get("name") == "modelport":
            return root
    raise DeployError("locating modelport's source", f"the running modelport ({package}) is not "
                      "inside its source tree; pass a modelport wheel or source folder")


def copy_tree(root: Path, target: Path) -> Path:
    """Copy what a wheel build of ``root`` needs into ``target``, so builds never write to it."""
    target.mkdir(parents=True)
    for name in TREE_FILES:
        if (root / name).is_file():
            shutil.copyfile(root / name, target / name)
    shutil.copytree(root / "src" / "modelport", target / "src" / "modelport",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def build_wheel(target: Path, source: Path | None = None) -> Path:
    """A modelport wheel in ``target``: ``source`` when it is a wheel, else built from a tree."""
    target.mkdir(parents=True, exist_ok=True)
    if source is not None and source.suffix == ".whl":
        if not source.is_file():
            raise DeployError("finding the modelport wheel", f"{source} does not exist")
        return Path(shutil.copyfile(source, target / source.name))
    root = source if source is not None else project_root()
    if not (root / "pyproject.toml").is_file():
        raise DeployError("finding modelport's source", f"{root} has no pyproject.toml")
    with tempfile.TemporaryDirectory(prefix="modelport-wheel-") as scratch:
        tree = copy_tree(root, Path(scratch) / "modelport")
        built = Path(scratch) / "wheel"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-input", "--quiet",
                   "--wheel-dir", str(built), str(tree)]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = sorted(built.glob("modelport-*.whl"))
        if completed.returncode != 0 or len(wheels) != 1:
            raise DeployError("building the modelport wheel", f"pip wheel exited "
                              f"{completed.returncode}", tail(completed.stdout + completed.stderr))
        return Path(shutil.copyfile(wheels[0], target / wheels[0].name))
