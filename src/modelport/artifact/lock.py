"""The dependency freeze: capture exact versions at pack time, compare them at load time."""

from __future__ import annotations

import ast
import functools
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from modelport.errors import ArtifactFormatError

LOCK_FILE = "requirements.lock"


def python_version() -> str:
    return platform.python_version()


def platform_tag() -> str:
    return f"{sys.platform}-{platform.machine()}"


@dataclass(frozen=True)
class Lock:
    """Exact distribution versions plus the interpreter and platform they ran on."""

    packages: dict[str, str]
    python: str = field(default_factory=python_version)
    platform: str = field(default_factory=platform_tag)

    def to_text(self) -> str:
        lines = [
            "# requirements.lock written by modelport: exact versions the model was packed with",
            f"# python=={self.python}",
            f"# platform=={self.platform}",
        ]
        lines += [f"{name}=={version}" for name, version in sorted(self.packages.items())]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Lock:
        packages: dict[str, str] = {}
        python = plat = ""
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if line.startswith("# python=="):
                python = line.removeprefix("# python==")
            elif line.startswith("# platform=="):
                plat = line.removeprefix("# platform==")
            elif line and not line.startswith("#"):
                name, sep, version = line.partition("==")
                if not sep or not name or not version:
                    raise ArtifactFormatError(f"{LOCK_FILE} line {number} is not NAME==VERSION: {raw!r}")
                packages[canonicalize_name(name)] = version
        return cls(packages, python, plat)


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _requirements_of(name: str, extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    try:
        requires = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []
    found = []
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None:
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if not any(req.marker.evaluate(env) for env in envs):
                continue
        found.append((req.name, frozenset(req.extras)))
    return found


def closure(roots: Iterable[str]) -> dict[str, str]:
    """Installed versions of ``roots`` and everything they require, transitively."""
    seen: dict[str, str] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    stack = [(r, frozenset[str]()) for r in roots]
    while stack:
        name, extras = stack.pop()
        key = (canonicalize_name(name), extras)
        if key in visited:
            continue
        visited.add(key)
        version = _installed_version(name)
        if version is None:
            continue
        seen[key[0]] = version
        stack.extend(_requirements_of(name, extras))
    return seen


@functools.cache
def _module_owners() -> Mapping[str, list[str]]:
    """Top-level module → distributions; scanning every installed RECORD is slow, so once a process."""
    return metadata.packages_distributions()


def distributions_for_modules(modules: Iterable[str]) -> set[str]:
    """Map top-level import names (``sklearn``) to the distributions that provide them."""
    mapping = _module_owners()
    found: set[str] = set()
    for module in modules:
        top = module.split(".")[0]
        found.update(mapping.get(top, []))
    return found


def imports_of(source: Path) -> set[str]:
    """Top-level modules a Python file imports (absolute imports only)."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    except SyntaxError as exc:
        raise ArtifactFormatError(f"{source} is not valid Python: {exc}") from exc
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


def capture(distributions: Iterable[str], modules: Iterable[str] = ()) -> Lock:
    """Freeze ``distributions`` plus those providing ``modules``, with their requirements."""
    roots = set(distributions) | distributions_for_modules(modules)
    return Lock(closure(sorted(roots)))


@dataclass(frozen=True)
class EnvironmentReport:
    """Differences between a lock and the running environment: errors block loading."""

    errors: list[str]
    warnings: list[str]

    @property
    def all(self) -> list[str]:
        return self.errors + self.warnings


def compare(lock: Lock, frameworks: Iterable[str]) -> EnvironmentReport:
    """Compare ``lock`` with what is installed; ``frameworks`` must match exactly."""
    strict = {canonicalize_name(f) for f in frameworks}
    errors: list[str] = []
    warnings: list[str] = []
    for name, wanted in sorted(lock.packages.items()):
        have = _installed_version(name)
        if have == wanted:
            continue
        text = f"{name}=={wanted} packed, {'not installed' if have is None else have + ' here'}"
        (errors if name in strict else warnings).append(text)
    here = python_version()
    if lock.python and lock.python != here:
        warnings.append(f"python {lock.python} packed, {here} here")
    if lock.platform and lock.platform != platform_tag():
        warnings.append(f"platform {lock.platform} packed, {platform_tag()} here")
    return EnvironmentReport(errors, warnings)
