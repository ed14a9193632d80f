"""Merge the small segments of closed days into few, so a day of steady traffic reads as a handful of
files rather than one per flush (86,400 a day per worker at the default interval).

Only days before ``before`` (today, UTC, by default) are touched: writers put new rows in today's
folder. A writer may still add a segment to a closed day (a flush just after midnight, or rows
with an earlier time); the compaction lists the segments it merges by name, so a segment added
meanwhile simply stays beside the compacted one. The merged segment is written first, naming
what it replaces, then those are deleted; an interruption in between leaves rows that readers
skip and the next compaction deletes. Compactions of one model take turns through a lock file.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from modelport.predictions.segments import (
    day_folders,
    fsync_folder,
    live_segments,
    model_folder,
    write_segment,
)

log = logging.getLogger(__name__)

#: segments at least this large are left as they are
SMALL_BYTES = 16 * 2**20
#: rows in one merged segment at most: bounds the memory a compaction takes
MAX_ROWS = 1_000_000


@contextlib.contextmanager
def _exclusive(base: Path) -> Iterator[None]:
    import fcntl

    with open(base / ".compact.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _groups(paths: list[Path]) -> Iterator[list[Path]]:
    group: list[Path] = []
    rows = 0
    for path in paths:
        count = pq.read_metadata(path).num_rows
        if group and rows + count > MAX_ROWS:
            yield group
            group, rows = [], 0
        group.append(path)
        rows += count
    yield group


def _compact_folder(folder: Path) -> list[Path]:
    live, replaced = live_segments(folder)
    for path in replaced:  # left by a compaction interrupted before it deleted them
        path.unlink(missing_ok=True)
    small = [p for p in live if p.stat().st_size < SMALL_BYTES]
    written = []
    for group in _groups(small):
        if len(group) < 2:
            continue
        try:
            table = pa.concat_tables([pq.read_table(p) for p in group], promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:  # a column changed type: keep them apart
            log.warning("prediction log: segments of %s not compacted: %s", folder, exc)
            continue
        written.append(write_segment(folder, table.replace_schema_metadata(None),
                                     replaces=[p.name for p in group]))
        for path in group:
            path.unlink(missing_ok=True)
        fsync_folder(folder)
    return written


def closed_days(root: str | Path, model: str, *, before: date | None = None,
                feedback: bool = False) -> list[date]:
    """The days of ``model`` before ``before`` (default: today, UTC) that have a folder."""
    before = before or datetime.now(UTC).date()
    return [day for day, _ in day_folders(Path(root), model, last=before, feedback=feedback) if day < before]


def compact_day(root: str | Path, model: str, day: date, *, feedback: bool = False) -> list[Path]:
    """Merge the small live segments of one day of ``model``; return the segments written."""
    base = model_folder(Path(root), model, feedback=feedback)
    folder = base / f"date={day.isoformat()}"
    if not folder.is_dir():
        return []
    with _exclusive(base):
        return _compact_folder(folder)


def compact(root: str | Path, model: str, *, before: date | None = None,
            feedback: bool = False) -> list[Path]:
    """Compact every day of ``model`` before ``before`` (default: today, UTC); return what was written."""
    return [path for day in closed_days(root, model, before=before, feedback=feedback)
            for path in compact_day(root, model, day, feedback=feedback)]
