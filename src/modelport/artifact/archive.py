"""One ``.tar`` of an artifact folder, written deterministically and extracted safely."""

from __future__ import annotations

import tarfile
from pathlib import Path

from modelport.artifact.files import check_relative, list_files
from modelport.errors import ArtifactFormatError


def write_tar(root: Path, target: Path) -> Path:
    """Write ``root``'s files into ``target`` with fixed metadata, via a temporary name."""
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        for name in list_files(root):
            info = tar.gettarinfo(str(root / name), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o644
            with (root / name).open("rb") as handle:
                tar.addfile(info, handle)
    partial.replace(target)
    return target


def extract_tar(source: Path, target: Path) -> Path:
    """Extract regular files only, refusing links, devices and paths that leave ``target``."""
    try:
        with tarfile.open(source, "r") as tar:
            members = tar.getmembers()
            for member in members:
                check_relative(member.name)
                if not (member.isfile() or member.isdir()):
                    raise ArtifactFormatError(f"{source.name}: member {member.name!r} is not a file")
            tar.extractall(target, members=members, filter="data")
    except tarfile.TarError as exc:
        raise ArtifactFormatError(f"{source} is not a readable tar archive: {exc}") from exc
    return target
