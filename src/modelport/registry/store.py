"""The content-addressed artifact store: a small protocol, and the local folder that is the default.

An artifact is stored under its digest (the sha256 of its manifest). Storing verifies every file
against the manifest first, writes into a temporary folder beside the target and renames it into
place, so a reader sees a whole verified artifact or nothing. Other stores (an object store, say)
register a factory for their URL scheme in ``STORES``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from modelport.artifact.archive import extract_tar
from modelport.artifact.files import MANIFEST, list_files, sha256_file, verify_tree
from modelport.artifact.manifest import Manifest, read_manifest
from modelport.core.plugins import PluginRegistry
from modelport.errors import ArtifactFormatError, IntegrityError, NotFoundError, RefError

_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Stored:
    """An artifact now in the store: its digest and manifest."""

    digest: str
    manifest: Manifest


class BlobStore(Protocol):
    """Where registered artifacts live, keyed by digest; nothing stored is ever changed."""

    def put(self, source: Path, *, move: bool = False) -> Stored:
        """Verify the artifact folder or ``.tar`` at ``source`` and store it (idempotent).

        ``move=True`` lets the store consume the folder ``source`` instead of copying it.
        """
        ...

    def fetch(self, digest: str, *, verify: bool = False) -> Path:
        """A local folder holding the artifact; ``verify`` checks every file, not only the manifest."""
        ...

    def contains(self, digest: str) -> bool:
        """True when the store holds the artifact."""
        ...


def check_digest(digest: str) -> str:
    if not _DIGEST.fullmatch(digest):
        raise RefError(f"invalid artifact digest {digest!r}: expected 64 lowercase hex digits")
    return digest


def _verified(root: Path) -> Stored:
    manifest, digest = read_manifest(root)
    verify_tree(root, manifest.files)
    return Stored(digest, manifest)


def _freeze(root: Path) -> None:
    """Make stored files read-only so nothing edits an artifact in place by accident."""
    for name in list_files(root):
        path = root / name
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


class LocalBlobStore:
    """Artifacts as folders ``ROOT/<digest>/`` on a local file system."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _stage(self, source: Path, move: bool) -> tuple[Path, bool]:
        """A private copy of ``source`` inside the store; True when ``source`` itself was moved."""
        if not (source.is_dir() or (source.is_file() and source.suffix == ".tar")):
            raise ArtifactFormatError(f"{source} is neither an artifact folder nor an artifact .tar")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.root))
        if source.is_file():
            extract_tar(source, staging)
            return staging, False
        if move:
            staging.rmdir()
            try:
                source.rename(staging)
                return staging, True
            except OSError:
                staging.mkdir()  # another file system: copy instead
        shutil.copytree(source, staging, dirs_exist_ok=True, symlinks=True)
        return staging, False

    def put(self, source: Path, *, move: bool = False) -> Stored:
        staging, moved = self._stage(source, move)
        try:
            stored = _verified(staging)
        except BaseException:
            if moved:
                staging.rename(source)  # give the caller's folder back untouched
            shutil.rmtree(staging, ignore_errors=True)
            raise
        target = self.root / stored.digest
        try:
            if not target.is_dir():
                _freeze(staging)
                try:
                    os.rename(staging, target)
                except OSError:
                    if not target.is_dir():  # not a concurrent put of the same artifact
                        raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if move and not moved and source.is_dir():
            shutil.rmtree(source, ignore_errors=True)
        return stored

    def fetch(self, digest: str, *, verify: bool = False) -> Path:
        path = self.root / check_digest(digest)
        manifest = path / MANIFEST
        if not manifest.is_file():
            raise NotFoundError(f"artifact sha256:{digest} is not in the store {self.root}")
        actual = sha256_file(manifest)
        if actual != digest:
            raise IntegrityError(str(manifest), f"hashes to {actual}, not to its digest {digest}: "
                                 "the stored artifact is corrupt")
        if verify:
            _verified(path)
        return path

    def contains(self, digest: str) -> bool:
        return (self.root / check_digest(digest) / MANIFEST).is_file()


def _local(location: str) -> BlobStore:
    path = urlparse(location).path if location.startswith("file:") else location
    return LocalBlobStore(Path(path).expanduser())


#: URL scheme → store factory; ``file`` (and plain paths) give a LocalBlobStore
STORES: PluginRegistry[Callable[[str], BlobStore]] = PluginRegistry("blob store")
STORES.register("file", _local)


def open_store(location: str) -> BlobStore:
    """The store for a folder path or a ``scheme://`` URL registered in STORES."""
    scheme = urlparse(location).scheme
    if len(scheme) <= 1:  # no scheme, or a Windows drive letter
        scheme = "file"
    try:
        factory = STORES.get(scheme)
    except KeyError as error:
        raise ArtifactFormatError(f"no blob store handles {location!r}: {error.args[0]}") from error
    return factory(location)
