"""Find a batch input's files and stream them as numbered chunks of exactly ``chunk_rows`` rows.

Chunk ``i`` always holds rows ``[i * chunk_rows, (i + 1) * chunk_rows)`` of the files read in sorted
order, so a resumed run cuts the same chunks as the run it continues. Parquet chunks are cut from
the files' metadata alone: a chunk names the row groups that hold its rows (``ParquetRows``) and the
worker that scores it reads them, so the main process neither reads, copies nor pipes the rows
(files whose row groups are far larger than a chunk are streamed as below instead). CSV files are
read batch by batch by Arrow's streaming reader, with little read-ahead, so memory does not grow
with the input.
JSON lines are cut into chunks as raw lines and parsed by the worker that scores them: Arrow's JSON
reader stops at the first value whose type differs from the rows before it, where batch scoring
must reject that one row and go on.
"""

from __future__ import annotations

import bisect
import glob
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc
import pyarrow.parquet as pq

from modelport.errors import BatchError

#: file suffix → input format (a ``.json`` file is one JSON document, which does not stream)
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json"}

#: most rows in one Arrow batch while reading; chunks are assembled from such batches
READ_BATCH_ROWS = 262_144


def _to_ipc(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _chunk_from_ipc(index: int, start: int, rows: int, data: pa.Buffer) -> Chunk:
    return Chunk(index, start, rows, pa.ipc.open_stream(data).read_all())


#: a Parquet file is chunked from its metadata when its largest row group holds at most this many
#: chunks' rows (a worker reads whole row groups); larger ones are streamed by the main process
ROW_GROUP_CHUNKS = 4


@dataclass(frozen=True)
class ParquetRows:
    """Rows of Parquet files, to be read by whoever scores them: per piece the file, the row groups
    that hold its rows, and where in those groups its rows start and how many there are."""

    pieces: tuple[tuple[str, tuple[int, ...], int, int], ...]
    columns: tuple[str, ...] | None = None

    def read(self) -> pa.Table:
        tables = []
        for path, groups, offset, count in self.pieces:
            try:
                with pq.ParquetFile(path, pre_buffer=False) as parquet:
                    table = parquet.read_row_groups(list(groups), columns=None if self.columns is None
                                                    else list(self.columns))
            except (pa.ArrowException, OSError) as exc:
                raise BatchError(f"cannot read {path}: {exc}") from exc
            tables.append(table.slice(offset, count))
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


@dataclass(frozen=True)
class Chunk:
    """Rows ``start .. start + rows`` of the input: an Arrow table, JSON lines joined by newlines,
    or where to read them in Parquet files (``table`` reads them)."""

    index: int
    start: int
    rows: int
    data: pa.Table | bytes | ParquetRows

    def table(self) -> pa.Table | bytes:
        """The rows: read from their files when the chunk only names where they are."""
        return self.data.read() if isinstance(self.data, ParquetRows) else self.data

    def __reduce__(self) -> tuple[Any, ...]:
        # a pickled slice of an Arrow array carries its whole parent buffer; the IPC format carries
        # only the rows of the chunk
        if isinstance(self.data, pa.Table):
            return _chunk_from_ipc, (self.index, self.start, self.rows, _to_ipc(self.data))
        return Chunk, (self.index, self.start, self.rows, self.data)


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

    def _csv_convert(self, schema: pa.Schema | None = None) -> pacsv.ConvertOptions:
        types: dict[str, pa.DataType] = {} if schema is None else dict(zip(schema.names, schema.types,
                                                                           strict=True))
        types.update(dict.fromkeys(self.text_columns, pa.string()))
        return pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)

    def _schema(self, path: Path) -> pa.Schema:
        try:
            if self.format == "parquet":
                return pq.ParquetFile(path).schema_arrow
            with pacsv.open_csv(path, convert_options=self._csv_convert()) as reader:
                return reader.schema
        except (pa.ArrowException, OSError) as exc:
            raise BatchError(f"cannot read {path}: {exc}") from exc

    def column_names(self) -> list[str] | None:
        """The columns every file has, where the format says so before reading the rows."""
        if self.format == "json":
            return None
        names: list[str] = list(self._schema(self.files[0]).names)
        for path in self.files[1:]:
            present = set(self._schema(path).names)
            names = [n for n in names if n in present]
        return names

    def count_rows(self) -> int | None:
        """Rows in the input when the files' metadata tells (Parquet), else None."""
        if self.format != "parquet":
            return None
        return sum(sum(groups) for groups in self._row_group_sizes().values())

    def batches(self, batch_rows: int, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Every row of the Parquet or CSV files as Arrow batches, reading little ahead.

        Each file is read by its format's streaming reader: pyarrow's dataset scanner reads a file
        far ahead of a slow consumer (most of a 720 MB Parquet file was held at once), these hold
        a row group or a few CSV blocks. CSV files after the first take the first one's types.
        """
        schema: pa.Schema | None = None
        for path in self.files:
            try:
                if self.format == "parquet":
                    yield from pq.ParquetFile(path, pre_buffer=False).iter_batches(
                        batch_size=batch_rows, columns=columns)
                    continue
                convert = self._csv_convert(schema)
                convert.include_columns = columns or []
                with pacsv.open_csv(path, convert_options=convert) as reader:
                    schema = schema or reader.schema
                    yield from reader
            except (pa.ArrowException, OSError) as exc:
                raise BatchError(f"cannot read {path}: {exc}") from exc

    def chunks(self, chunk_rows: int, columns: list[str] | None = None) -> Iterator[Chunk]:
        """Every row once, in order, as chunks of ``chunk_rows`` (the last may be shorter)."""
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        if self.format == "json":
            yield from _line_chunks(self.files, chunk_rows)
        elif self.format == "parquet" and self._row_groups_fit(sizes := self._row_group_sizes(), chunk_rows):
            yield from _parquet_chunks(sizes, chunk_rows, columns)
        else:
            yield from _table_chunks(self.batches(min(chunk_rows, READ_BATCH_ROWS), columns), chunk_rows)

    def _row_group_sizes(self) -> dict[Path, list[int]]:
        """The rows of each row group of each Parquet file, from the files' metadata."""
        sizes = {}
        for path in self.files:
            try:
                meta = pq.ParquetFile(path).metadata
            except (pa.ArrowException, OSError) as exc:
                raise BatchError(f"cannot read {path}: {exc}") from exc
            sizes[path] = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        return sizes

    @staticmethod
    def _row_groups_fit(sizes: dict[Path, list[int]], chunk_rows: int) -> bool:
        """Whether every row group is small enough for a worker to read for one chunk."""
        return all(rows <= ROW_GROUP_CHUNKS * chunk_rows for groups in sizes.values() for rows in groups)


def _parquet_chunks(files: dict[Path, list[int]], chunk_rows: int, columns: list[str] | None
                    ) -> Iterator[Chunk]:
    """The chunks of Parquet files (their row groups' sizes, in file order) as the row groups that
    hold their rows."""
    wanted = None if columns is None else tuple(columns)
    pieces: list[tuple[str, tuple[int, ...], int, int]] = []
    count = index = start = 0
    for path, sizes in files.items():
        firsts = list(itertools.accumulate(sizes, initial=0))  # each group's first row in the file
        position = 0
        while position < firsts[-1]:
            take = min(firsts[-1] - position, chunk_rows - count)
            first = bisect.bisect_right(firsts, position) - 1
            last = bisect.bisect_right(firsts, position + take - 1) - 1
            groups = tuple(g for g in range(first, last + 1) if sizes[g])
            pieces.append((str(path), groups, position - firsts[first], take))
            position += take
            count += take
            if count == chunk_rows:
                yield Chunk(index, start, count, ParquetRows(tuple(pieces), wanted))
                index, start, pieces, count = index + 1, start + count, [], 0
    if count:
        yield Chunk(index, start, count, ParquetRows(tuple(pieces), wanted))


def _table_chunks(batches: Iterator[pa.RecordBatch], chunk_rows: int) -> Iterator[Chunk]:
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
