"""Merge the small segments of closed days into few, so a day of steady traffic reads as a handful of
files rather than one per flush (86,400 a day per worker at the default interval).

Only days before ``before`` (today, UTC, by default) are touched: writers put new rows in today's
folder. A writer may still add a segment to a closed day (a flush just after midnight, or rows
with an earlier time); the compaction lists the segments it merges by name, so a segment added
meanwhile simply stays beside the compacted one. The merged segment is written first, naming
what it replaces, then those are deleted; an interruption in between leaves rows that readers
skip and the next compaction deletes. Compactions of one model take turns through a lock file.

Work comes in steps of at most ``limit`` segments (reading a small segment costs a few
milliseconds), so the log's compaction thread never holds a lock or a day's rows for long: plain
segments are merged first, then the merged ones with each other.
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
    COMPACT_COMPRESSION,
    COMPACT_PREFIX,
    day_folders,
    fsync_folder,
    live_segments,
    model_folder,
    write_segment,
)

log = logging.getLogger(__name__)

#: segments at least this large are left as they are
SMALL_BYTES = 16 * 2**20
#: compressed bytes merged into one segment at most: bounds the memory a step takes
STEP_BYTES = 32 * 2**20
#: segments merged in one step at most
STEP_SEGMENTS = 256


@contextlib.contextmanager
def _exclusive(base: Path) -> Iterator[None]:
    import fcntl

    with open(base / ".compact.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _small(folder: Path) -> list[tuple[Path, int]]:
    """The small live segments of the folder with their sizes: plain ones first, then merged ones."""
    live, replaced = live_segments(folder)
    for path in replaced:  # left by a compaction interrupted before it deleted them
        path.unlink(missing_ok=True)
    small = [(p, size) for p in live if (size := p.stat().st_size) < SMALL_BYTES]
    return sorted(small, key=lambda item: item[0].name.startswith(COMPACT_PREFIX))


def _read(path: Path) -> pa.Table:
    with pq.ParquetFile(path) as segment:  # half the cost of pq.read_table's dataset discovery
        return segment.read()


def _step(folder: Path, limit: int) -> tuple[Path | None, bool]:
    """Merge up to ``limit`` small segments; return the new segment and whether more work is left."""
    small = _small(folder)
    group: list[Path] = []
    total = 0
    for path, size in small[:limit]:
        if group and total + size > STEP_BYTES:
            break
        group.append(path)
        total += size
    if len(group) < 2:
        return None, False
    try:
        table = pa.concat_tables([_read(p) for p in group], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:  # a column changed type: keep them apart
        log.warning("prediction log: segments of %s not compacted: %s", folder, exc)
        return None, False
    merged = write_segment(folder, table.replace_schema_metadata(None), replaces=[p.name for p in group],
                           compression=COMPACT_COMPRESSION)
    for path in group:
        path.unlink(missing_ok=True)
    fsync_folder(folder)
    left = len(small) - len(group) + (merged.stat().st_size < SMALL_BYTES)
    return merged, left >= 2


def closed_days(root: str | Path, model: str, *, before: date | None = None,
                feedback: bool = False, resources: bool = False) -> list[date]:
    """The days of ``model`` before ``before`` (default: today, UTC) that have a folder."""
    before = before or datetime.now(UTC).date()
    return [day for day, _ in day_folders(Path(root), model, last=before, feedback=feedback,
                                          resources=resources) if day < before]


def compact_step(root: str | Path, model: str, day: date, *, feedback: bool = False,
                 resources: bool = False, limit: int = STEP_SEGMENTS) -> tuple[Path | None, bool]:
    """One step on one day of ``model``: the segment written (if any) and whether more is left."""
    base = model_folder(Path(root), model, feedback=feedback, resources=resources)
    folder = base / f"date={day.isoformat()}"
    if not folder.is_dir():
        return None, False
    with _exclusive(base):
        return _step(folder, max(2, limit))


def compact(root: str | Path, model: str, *, before: date | None = None,
            feedback: bool = False, resources: bool = False) -> list[Path]:
    """Compact every day of ``model`` before ``before`` (default: today, UTC); return what was written."""
    written = []
    for day in closed_days(root, model, before=before, feedback=feedback, resources=resources):
        more = True
        while more:
            merged, more = compact_step(root, model, day, feedback=feedback, resources=resources)
            if merged is not None:
                written.append(merged)
    return written
