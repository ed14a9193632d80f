"""The conformance suite every blob store passes: verified puts, whole-or-nothing, digests kept."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import modelport
from modelport.artifact.archive import write_tar
from modelport.errors import ArtifactFormatError, IntegrityError, NotFoundError, RefError
from modelport.registry.store import STORES, BlobStore, LocalBlobStore, open_store
from tests.artifacts import small_classifier

#: how to open each store kind over a fresh location
STORE_KINDS: dict[str, Callable[[Path], BlobStore]] = {
    "local-path": lambda root: open_store(str(root)),
    "local-file-url": lambda root: open_store(root.as_uri()),
}


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> modelport.Artifact:
    packed, _ = small_classifier(tmp_path_factory.mktemp("store") / "a")
    return packed


@pytest.fixture(params=sorted(STORE_KINDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return STORE_KINDS[request.param](tmp_path / "store")


@pytest.fixture
def source(artifact: modelport.Artifact, tmp_path: Path) -> Path:
    return Path(shutil.copytree(artifact.path, tmp_path / "source"))


def _leftovers(tmp_path: Path) -> list[str]:
    root = tmp_path / "store"
    return sorted(p for p in os.listdir(root) if p.startswith(".")) if root.exists() else []


def test_every_registered_scheme_has_a_case() -> None:
    assert set(STORES.names()) == {"file"}
    assert all(isinstance(make(Path("/x")), LocalBlobStore) for make in STORE_KINDS.values())


def test_put_verifies_and_fetch_returns_the_artifact(store: BlobStore, source: Path,
                                                     artifact: modelport.Artifact) -> None:
    stored = store.put(source)
    assert stored.digest == artifact.digest
    assert stored.manifest.name == "small"
    assert store.contains(artifact.digest)
    path = store.fetch(artifact.digest, verify=True)
    assert path.name == artifact.digest
    assert modelport.load(path).digest == artifact.digest
    assert source.is_dir()  # copied, not consumed


def test_put_is_idempotent_and_accepts_a_tar(store: BlobStore, source: Path,
                                             tmp_path: Path) -> None:
    first = store.put(source)
    again = store.put(write_tar(source, tmp_path / "a.tar"))
    assert again.digest == first.digest
    assert _leftovers(tmp_path) == []


def test_move_consumes_the_folder_and_stored_files_are_read_only(store: BlobStore,
                                                                 source: Path) -> None:
    stored = store.put(source, move=True)
    assert not source.exists()
    manifest = store.fetch(stored.digest) / "manifest.json"
    assert manifest.stat().st_mode & 0o222 == 0


def test_a_corrupt_artifact_is_refused_and_nothing_is_left(store: BlobStore, source: Path,
                                                           tmp_path: Path) -> None:
    (source / "requirements.lock").write_text("edited\n")
    with pytest.raises(IntegrityError, match="requirements.lock"):
        store.put(source, move=True)
    assert (source / "requirements.lock").read_text() == "edited\n"  # a failed move gives it back
    assert _leftovers(tmp_path) == []
    with pytest.raises(ArtifactFormatError, match="neither an artifact folder"):
        store.put(tmp_path / "nothing-here")
    with pytest.raises(ArtifactFormatError, match="no manifest.json"):
        store.put(source / "model")


def test_fetch_names_unknown_bad_and_corrupt_digests(store: BlobStore, source: Path) -> None:
    with pytest.raises(NotFoundError, match="is not in the store"):
        store.fetch("0" * 64)
    with pytest.raises(RefError, match="invalid artifact digest"):
        store.fetch("../../etc")
    digest = store.put(source).digest
    model_file = next((store.fetch(digest) / "model").iterdir())
    model_file.chmod(0o644)
    model_file.write_bytes(b"tampered")
    store.fetch(digest)  # the manifest still matches ...
    with pytest.raises(IntegrityError, match="changed"):
        store.fetch(digest, verify=True)  # ... but the file does not
    manifest = store.fetch(digest) / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text(manifest.read_text() + " ")
    with pytest.raises(IntegrityError, match="the stored artifact is corrupt"):
        store.fetch(digest)


def test_concurrent_puts_of_one_artifact_all_succeed(store: BlobStore, source: Path,
                                                     tmp_path: Path) -> None:
    copies = [Path(shutil.copytree(source, tmp_path / f"copy{i}")) for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        digests = set(pool.map(lambda p: store.put(p, move=True).digest, copies))
    assert len(digests) == 1
    assert store.fetch(digests.pop(), verify=True).is_dir()
    assert _leftovers(tmp_path) == []
