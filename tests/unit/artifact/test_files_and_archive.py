from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from modelport.artifact.archive import extract_tar, write_tar
from modelport.artifact.files import check_relative, digest_tree, verify_tree
from modelport.errors import ArtifactFormatError, IntegrityError


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b", "a//b", "a\\b", ""])
def test_unsafe_paths_are_refused(name: str) -> None:
    with pytest.raises(ArtifactFormatError, match="unsafe path"):
        check_relative(name)


def test_verify_tree_names_changed_missing_and_unexpected_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    expected = digest_tree(tmp_path)
    verify_tree(tmp_path, expected)
    (tmp_path / "a.txt").write_text("A")
    with pytest.raises(IntegrityError, match="'a.txt' does not match"):
        verify_tree(tmp_path, expected)
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").unlink()
    with pytest.raises(IntegrityError, match="'b.txt' is listed in the manifest but missing"):
        verify_tree(tmp_path, expected)
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "c.txt").write_text("c")
    with pytest.raises(IntegrityError, match="'c.txt' is not listed"):
        verify_tree(tmp_path, expected)


def test_links_are_refused(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(IntegrityError, match="symbolic link"):
        digest_tree(tmp_path)


def test_tar_round_trip_is_deterministic(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f.bin").write_bytes(b"123")
    one = write_tar(src, tmp_path / "one.tar").read_bytes()
    two = write_tar(src, tmp_path / "two.tar").read_bytes()
    assert one == two
    out = extract_tar(tmp_path / "one.tar", tmp_path / "out")
    assert (out / "d" / "f.bin").read_bytes() == b"123"


def _tar_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tar:
        tar.addfile(member, io.BytesIO(data) if data else None)
    return path


def test_tar_path_traversal_and_links_are_refused(tmp_path: Path) -> None:
    escape = tarfile.TarInfo("../escape.txt")
    escape.size = 1
    with pytest.raises(ArtifactFormatError, match="unsafe path"):
        extract_tar(_tar_with(tmp_path, escape, b"x"), tmp_path / "out1")
    link = tarfile.TarInfo("link")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    with pytest.raises(ArtifactFormatError, match="not a file"):
        extract_tar(_tar_with(tmp_path, link), tmp_path / "out2")
    assert not (tmp_path / "escape.txt").exists()
