"""The output folder of a batch run: atomic Parquet parts, the run header and the journal of chunks.

Layout (names that start with ``_`` or ``.`` are skipped by Parquet readers, so reading the folder
as a dataset gives the predictions only)::

    OUTPUT/part-000000.parquet           predictions of chunk 0 (absent when every row was rejected)
    OUTPUT/_rejects/part-000000.parquet  rejected rows of chunk 0 with the reason (absent when none)
    OUTPUT/_batch.json                   the run: id, model, input fingerprint, options
    OUTPUT/_chunks.jsonl                 one line per finished chunk, appended and synced
    OUTPUT/_summary.json                 counts and timing, written when the run completes

A part is written under a hidden temporary name, synced and renamed, so a reader never sees half a
part. A chunk counts as finished once its journal line is synced, after its parts were renamed; a
chunk scored again after a crash writes the same parts under the same names, so nothing doubles.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from modelport.errors import BatchError

HEADER = "_batch.json"
JOURNAL = "_chunks.jsonl"
SUMMARY = "_summary.json"
REJECTS = "_rejects"


def part_name(index: int) -> str:
    return f"part-{index:06d}.parquet"


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes | pa.Table) -> None:
    """Write ``data`` to ``path`` so that the name shows either nothing or the whole file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(data, pa.Table):
        pq.write_table(data, temporary)
    else:
        temporary.write_bytes(data)
    with temporary.open("rb+") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


@dataclass(frozen=True)
class ChunkResult:
    """One finished chunk: where its rows went. ``part``/``rejects_part`` are None when empty."""

    index: int
    start: int
    rows: int
    scored: int
    rejected: int
    part: str | None
    rejects_part: str | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OutputFolder:
    """One run's output folder: its header, its journal of finished chunks and its parts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rejects = root / REJECTS

    def exists(self) -> bool:
        return (self.root / HEADER).is_file()

    def start(self, header: dict[str, Any]) -> None:
        """Begin a run in an empty (or new) folder."""
        if self.exists():
            run = self.header().get("run_id")
            raise BatchError(f"{self.root} holds batch run {run}: pass --resume to continue it, or "
                             "choose another output folder")
        if self.root.is_dir() and any(self.root.iterdir()):
            raise BatchError(f"{self.root} is not empty and holds no batch run; choose another output "
                             "folder")
        self.rejects.mkdir(parents=True, exist_ok=True)
        write_atomic(self.root / HEADER, json.dumps(header, indent=2, sort_keys=True).encode())

    def header(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.root / HEADER).read_text())
        return loaded

    def resume(self, expected: dict[str, Any]) -> dict[str, Any]:
        """The header of the run to continue, after checking it scores the same input the same way."""
        if not self.exists():
            raise BatchError(f"{self.root} holds no batch run to resume")
        header = self.header()
        changed = sorted(k for k in expected if k != "run_id" and header.get(k) != expected[k])
        if changed:
            raise BatchError(f"cannot resume run {header.get('run_id')} in {self.root}: its "
                             f"{', '.join(changed)} differ from this run's; start a new output folder")
        for stale in [*self.root.glob(".*.tmp"), *self.rejects.glob(".*.tmp")]:
            stale.unlink(missing_ok=True)
        self._cut_torn_line()
        return header

    def _cut_torn_line(self) -> None:
        """Drop a journal line a crash cut short, so the next line does not run into it."""
        path = self.root / JOURNAL
        if not path.exists():
            return
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            with path.open("rb+") as journal:
                journal.truncate(data.rfind(b"\n") + 1)
                os.fsync(journal.fileno())

    def finished(self) -> dict[int, ChunkResult]:
        """Chunks the journal records as finished; a line cut short by a crash is not one."""
        path = self.root / JOURNAL
        if not path.exists():
            return {}
        done: dict[int, ChunkResult] = {}
        for line in path.read_text().splitlines():
            try:
                result = ChunkResult(**json.loads(line))
            except (ValueError, TypeError):
                continue
            done[result.index] = result
        return done

    def drop_unfinished(self, done: dict[int, ChunkResult]) -> int:
        """Remove the parts of chunks a stopped run wrote but never recorded; return how many.

        The local engine would write them again under the same names; the spark engine may cut
        the remaining rows into other chunks, whose parts must not meet these.
        """
        kept = {name for r in done.values() for name in (r.part, r.rejects_part) if name}
        stale = [p for folder in (self.root, self.rejects) for p in folder.glob("part-*.parquet")
                 if p.name not in kept]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def record(self, result: ChunkResult) -> None:
        """Append a finished chunk to the journal and sync it: from here on it is acknowledged."""
        with (self.root / JOURNAL).open("a") as journal:
            journal.write(json.dumps(result.to_dict(), sort_keys=True) + "\n")
            journal.flush()
            os.fsync(journal.fileno())

    def complete(self, summary: dict[str, Any]) -> None:
        write_atomic(self.root / SUMMARY, json.dumps(summary, indent=2, sort_keys=True).encode())
