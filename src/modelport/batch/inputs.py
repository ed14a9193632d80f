"""Find a batch input's files and stream them as numbered chunks of exactly ``chunk_rows`` rows.

Chunk ``i`` always holds rows ``[i * chunk_rows, (i + 1) * chunk_rows)`` of the files read in sorted
order, so a resumed run cuts the same chunks as the run it continues. Parquet and CSV are read as a
pyarrow dataset, batch by batch with little read-ahead, so memory does not grow with the input.
JSON lines are cut into chunks as raw lines and parsed by the worker that scores them: Arrow's JSON
reader stops at the first value whose type differs from the rows before it, where batch scoring
must reject that one row and go on.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds

from modelport.errors import BatchError

#: file suffix → input format (a ``.json`` file is one JSON document, which does not stream)
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json"}

#: most rows in one Arrow batch while reading; chunks are assembled from such batches
READ_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Chunk:
    """Rows ``start .. start + rows`` of the input: an Arrow table, or JSON lines joined by newlines."""

    index: int
    start: int
    rows: int
    data: pa.Table | bytes


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def find_files(where: str) -> list[Path]:
    """A file, every input file under a folder, or a glob's matches; sorted, so always in one order."""
    path = Path(where)
    if path.is_file():
        return [path.resolve()]
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS
                 and _visible(p, path)]
    else:
        found = [Path(p) for p in glob.glob(where, recursive=True) if Path(p).is_file()]
    if not found:
        raise BatchError(f"no input files found at {where!r} (expected {', '.join(sorted(FORMATS))})")
    return sorted(p.resolve() for p in found)


def input_format(files: list[Path]) -> str:
    kinds = {FORMATS.get(p.suffix.lower()) for p in files}
    if None in kinds:
        unknown = sorted(p.name for p in files if p.suffix.lower() not in FORMATS)
        raise BatchError(f"cannot read {unknown[:5]}: the input formats are {', '.join(sorted(FORMATS))}")
    if len(kinds) > 1:
        raise BatchError(f"the input mixes formats {sorted(k for k in kinds if k)}; score one at a time")
    return str(kinds.pop())


@dataclass(frozen=True)
class InputSource:
    """The files of one batch input, their format, and the signature columns read as CSV text."""

    files: tuple[Path, ...]
    format: str
    text_columns: tuple[str, ...] = ()

    @classmethod
    def open(cls, where: str, text_columns: tuple[str, ...] = ()) -> InputSource:
        files = find_files(where)
        return cls(tuple(files), input_format(files), text_columns)

    def fingerprint(self) -> list[list[Any]]:
        """Path, size and modification time of every file: a resumed run must see the same input."""
        return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in self.files]

    def dataset(self) -> ds.Dataset:
        if self.format == "parquet":
            return ds.dataset([str(p) for p in self.files], format="parquet")
        if self.format == "csv":
            types = dict.fromkeys(self.text_columns, pa.string())
            options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
            return ds.dataset([str(p) for p in self.files], format=ds.CsvFileFormat(
                convert_options=options))
        raise BatchError(f"{self.format} input is not read as an Arrow dataset")

    def column_names(self) -> list[str] | None:
        """The columns every row has, where the format says so before reading the rows."""
        return None if self.format == "json" else list(self.dataset().schema.names)

    def count_rows(self) -> int | None:
        """Rows in the input when the files' metadata tells (Parquet), else None."""
        return self.dataset().count_rows() if self.format == "parquet" else None

    def chunks(self, chunk_rows: int, columns: list[str] | None = None) -> Iterator[Chunk]:
        """Every row once, in order, as chunks of ``chunk_rows`` (the last may be shorter)."""
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        if self.format == "json":
            yield from _line_chunks(self.files, chunk_rows)
        else:
            yield from _table_chunks(self.dataset(), chunk_rows, columns)


def _table_chunks(dataset: ds.Dataset, chunk_rows: int, columns: list[str] | None) -> Iterator[Chunk]:
    batches = dataset.to_batches(columns=columns, batch_size=min(chunk_rows, READ_BATCH_ROWS),
                                 batch_readahead=1, fragment_readahead=1)
    held: list[pa.RecordBatch] = []
    count = index = start = 0
    for batch in batches:
        while batch.num_rows:
            take = min(batch.num_rows, chunk_rows - count)
            held.append(batch.slice(0, take))
            batch = batch.slice(take)
            count += take
            if count == chunk_rows:
                yield Chunk(index, start, count, pa.Table.from_batches(held))
                index, start, held, count = index + 1, start + count, [], 0
    if count:
        yield Chunk(index, start, count, pa.Table.from_batches(held))


def _line_chunks(files: tuple[Path, ...], chunk_rows: int) -> Iterator[Chunk]:
    held: list[bytes] = []
    index = start = 0
    for path in files:
        with path.open("rb") as lines:
            for line in lines:
                line = line.strip()
                if not line:
                    continue
                held.append(line)
                if len(held) == chunk_rows:
                    yield Chunk(index, start, len(held), b"\n".join(held))
                    index, start, held = index + 1, start + len(held), []
    if held:
        yield Chunk(index, start, len(held), b"\n".join(held))
