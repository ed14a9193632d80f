"""Digests and safe relative paths for the files inside an artifact folder."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from modelport.errors import ArtifactFormatError, IntegrityError

MANIFEST = "manifest.json"
MODEL_FOLDER = "model"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_relative(name: str) -> str:
    """Return ``name`` if it is a plain relative POSIX path inside the artifact, else raise."""
    path = PurePosixPath(name)
    if (not name or path.is_absolute() or "\\" in name or any(p in ("..", "") for p in path.parts)
            or name != str(path)):
        raise ArtifactFormatError(f"unsafe path in artifact: {name!r}")
    return name


def list_files(root: Path) -> list[str]:
    """Every regular file under ``root`` as a relative POSIX path, refusing links."""
    names: list[str] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise IntegrityError(rel, "is a symbolic link, which artifacts may not contain")
        if path.is_file():
            names.append(rel)
    return names


def digest_tree(root: Path, skip: tuple[str, ...] = (MANIFEST,)) -> dict[str, str]:
    """sha256 of every file under ``root`` except ``skip``."""
    return {name: sha256_file(root / name) for name in list_files(root) if name not in skip}


def verify_tree(root: Path, expected: dict[str, str]) -> None:
    """Raise IntegrityError naming the first file that is changed, missing or unexpected."""
    for name in expected:
        check_relative(name)
    actual = set(list_files(root)) - {MANIFEST}
    for name in sorted(actual - set(expected)):
        raise IntegrityError(name, "is not listed in the manifest (unexpected file)")
    for name, digest in sorted(expected.items()):
        path = root / name
        if not path.is_file():
            raise IntegrityError(name, "is listed in the manifest but missing")
        if sha256_file(path) != digest:
            raise IntegrityError(name, "does not match its sha256 in the manifest (changed)")
