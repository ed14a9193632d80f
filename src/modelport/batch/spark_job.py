"""Batch scoring as a Spark job: Spark reads the input, its Python workers score with the chunk scorer.

The output is the local engine's: the same scorer writes the same parts and rejects, with each row
numbered as the local engine numbers it (Parquet: the row's index in its file plus the rows of the
files before it; JSON lines: the non-blank lines counted in file order), so the two engines give
identical rows. A part holds one run of consecutive rows of one Arrow batch and is named after its
first row. CSV files are read by Arrow in the Python workers, a file per task (Spark's CSV parser
reads quotes and missing values otherwise than Arrow's), after a first job counts each file's rows.

Resume: a row's number does not depend on how Spark splits the input, so a resumed run leaves out
the rows of the chunks the journal records and scores the rest in chunks named after their own
first rows; the parts and log segments of chunks a stopped run wrote but never recorded were
removed when the run was planned (``Plan.drop_unfinished``), so no row is written twice even when
Spark splits the input otherwise than before.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import numpy as np
import pyarrow as pa

from modelport.batch.inputs import READ_BATCH_ROWS, Chunk, InputSource
from modelport.batch.output import ChunkResult, OutputFolder
from modelport.batch.scoring import ChunkScorer, ScoringSpec
from modelport.engines.spark import SparkConfig, map_in_arrow, spark_session
from modelport.inference.load import load

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from modelport.batch.job import EngineStats, Plan

ROW, LINE, FILE, INDEX = "__modelport_row", "__modelport_line", "__modelport_file", "__modelport_row_index"
#: the first row number of a CSV file, beside its path (one row per file)
OFFSET = "__modelport_offset"
RESULTS = pa.schema([("index", pa.int64()), ("start", pa.int64()), ("rows", pa.int64()),
                     ("scored", pa.int64()), ("rejected", pa.int64()), ("part", pa.string()),
                     ("rejects_part", pa.string()), ("seconds", pa.float64())])
RESULTS_DDL = ("index long, start long, rows long, scored long, rejected long, part string, "
               "rejects_part string, seconds double")


@dataclass(frozen=True)
class SparkScoring:
    """What each Python worker needs: the scoring spec, and the first row number of each Parquet file."""

    spec: ScoringSpec
    offsets: dict[str, int]
    shipped: str | None = None
    #: first rows and ends of the chunks finished before a resume, sorted
    done: tuple[tuple[int, int], ...] = ()
    #: the CSV input's chunk size, its signature columns (read as text) and the columns to read
    chunk_rows: int = 0
    text_columns: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None


def local_path(uri: str) -> str:
    """``file:/tmp/a.parquet`` (as Spark names files) → ``/tmp/a.parquet``."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme in ("", "file") else uri


def _plain_types(table: pa.Table) -> pa.Table:
    """Spark hands strings over as large strings; the local engine reads them as strings."""
    fields = [pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else
                       pa.binary() if pa.types.is_large_binary(f.type) else f.type) for f in table.schema]
    return table.cast(pa.schema(fields))


def _csv_chunks(batch: pa.RecordBatch, state: SparkScoring) -> Iterator[Chunk]:
    """Every row of the CSV files a batch names, read by Arrow as the local engine reads them."""
    columns = list(state.columns) if state.columns is not None else None
    for path, offset in zip(batch.column(FILE).to_pylist(), batch.column(OFFSET).to_pylist(), strict=True):
        source = InputSource((Path(path),), "csv", state.text_columns)
        for chunk in source.chunks(state.chunk_rows, columns):
            start = offset + chunk.start
            yield Chunk(start, start, chunk.rows, chunk.data)


def _unfinished(chunk: Chunk, done: tuple[tuple[int, int], ...]) -> Iterator[Chunk]:
    """The runs of a chunk's rows that no finished chunk holds, each a chunk named by its first row."""
    if not done:
        yield chunk
        return
    rows = np.arange(chunk.start, chunk.start + chunk.rows)
    starts = np.array([s for s, _ in done])
    ends = np.array([e for _, e in done])
    before = np.searchsorted(starts, rows, side="right") - 1
    covered = (before >= 0) & (rows < ends[np.maximum(before, 0)])
    keep = np.flatnonzero(~covered)
    if len(keep) == chunk.rows:
        yield chunk
        return
    edges = [0, *(np.flatnonzero(np.diff(keep) != 1) + 1).tolist(), len(keep)]
    lines = chunk.data.split(b"\n") if isinstance(chunk.data, bytes) else None
    for first, end in itertools.pairwise(edges):
        if first == end:
            continue
        offset, count = int(keep[first]), end - first
        start = chunk.start + offset
        data: pa.Table | bytes = (b"\n".join(lines[offset:offset + count]) if lines is not None
                                  else chunk.data.slice(offset, count))  # type: ignore[union-attr]
        yield Chunk(start, start, count, data)


def batch_chunks(batch: pa.RecordBatch, offsets: dict[str, int]) -> Iterator[Chunk]:
    """The runs of consecutive input rows in one of Spark's Arrow batches, as chunks named by row."""
    names = batch.schema.names
    if ROW in names:
        rows = batch.column(ROW).to_numpy()
        lines = batch.column(LINE).to_pylist()
    else:
        first_rows = [offsets[local_path(f)] for f in batch.column(FILE).to_pylist()]
        rows = np.array(first_rows, dtype=np.int64) + batch.column(INDEX).to_numpy()
        table = _plain_types(pa.Table.from_batches([batch]).drop_columns([FILE, INDEX]))
    edges = [0, *(np.flatnonzero(np.diff(rows) != 1) + 1).tolist(), len(rows)]
    for first, end in itertools.pairwise(edges):
        start = int(rows[first])
        if ROW in names:
            data: pa.Table | bytes = "\n".join(lines[first:end]).encode()
        else:
            data = table.slice(first, end - first)
        yield Chunk(start, start, end - first, data)


def start_spark_worker(state: SparkScoring) -> Callable[[pa.RecordBatch], Iterator[pa.RecordBatch]]:
    """Load the model once in this Python worker; return the function that scores one Arrow batch."""
    spec = state.spec
    if state.shipped is not None:
        from pyspark import SparkFiles

        spec = replace(spec, artifact=SparkFiles.get(state.shipped))
    model = load(Path(spec.artifact), allow_env_mismatch=spec.allow_env_mismatch)
    scorer = ChunkScorer(model, spec)
    folder = OutputFolder(Path(spec.output))

    def work(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        csv = OFFSET in batch.schema.names
        chunks = _csv_chunks(batch, state) if csv else batch_chunks(batch, state.offsets)
        for chunk in chunks:
            for part in _unfinished(chunk, state.done):
                result = scorer.write(part, folder)
                yield pa.RecordBatch.from_pylist([result.to_dict()], schema=RESULTS)

    return work


def _frame(spark: SparkSession, plan: Plan) -> DataFrame:
    from pyspark.sql import functions as F

    uris = [path.as_uri() for path in plan.source.files]
    if plan.source.format == "parquet":
        columns = [F.col(f"`{name}`") for name in plan.columns or []]
        return spark.read.parquet(*uris).select(*columns, F.col("_metadata.file_path").alias(FILE),
                                                 F.col("_metadata.row_index").alias(INDEX))
    if plan.source.format == "json":
        context = spark.sparkContext
        lines = (context.union([context.textFile(uri) for uri in uris])
                 .map(lambda line: line.strip()).filter(bool).zipWithIndex()
                 .map(lambda pair: (pair[1], pair[0])))
        return spark.createDataFrame(lines, f"{ROW} long, {LINE} string")
    files = [str(path) for path in plan.source.files]
    counts = spark.sparkContext.parallelize(files, len(files)).map(_count_csv(plan.source)).collect()
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
    return spark.createDataFrame(list(zip(files, offsets, strict=True)),
                                 f"{FILE} string, {OFFSET} long").repartition(len(files))


def _count_csv(source: InputSource) -> Callable[[str], int]:
    def count(path: str) -> int:
        single = InputSource((Path(path),), "csv", source.text_columns)
        return sum(batch.num_rows for batch in single.batches(READ_BATCH_ROWS))

    return count


def _offsets(plan: Plan) -> dict[str, int]:
    if plan.source.format != "parquet":
        return {}
    import pyarrow.parquet as pq

    offsets, first = {}, 0
    for path in plan.source.files:
        offsets[str(path)] = first
        first += pq.ParquetFile(path).metadata.num_rows
    return offsets


def run_spark(plan: Plan, stats: EngineStats) -> Iterator[ChunkResult]:
    """Score the whole input as one Spark job; a stopped Spark run starts again from the start."""
    config = SparkConfig(master=plan.config.master, batch_rows=plan.config.chunk_rows)
    started = time.perf_counter()
    with spark_session(config) as spark:
        shipped = None
        if not config.local:  # executors elsewhere get the artifact once, through Spark
            spark.sparkContext.addFile(plan.spec.artifact, recursive=True)
            shipped = Path(plan.spec.artifact).name
        done = tuple(sorted((r.start, r.start + r.rows) for r in plan.done.values()))
        state = SparkScoring(plan.spec, _offsets(plan), shipped, done, plan.config.chunk_rows,
                             plan.source.text_columns, None if plan.columns is None else tuple(plan.columns))
        stats.startup_seconds = time.perf_counter() - started
        results = map_in_arrow(_frame(spark, plan), start_spark_worker, state, plan.spec.run_id,
                               RESULTS_DDL).collect()
    for row in results:
        found: dict[str, Any] = row.asDict()
        yield ChunkResult(**found)
