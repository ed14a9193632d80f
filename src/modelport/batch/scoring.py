"""Score one chunk: parse it, validate it (setting bad rows aside with their reasons), predict, write.

Runs in a batch worker, through the one path every prediction takes: ``LoadedModel.validate``
then ``LoadedModel.predict_frame``. Rows that fail validation go to the chunk's rejects part with a
reason per row; the rest of the chunk is scored. With a prediction log, the scored rows are also
written there as the chunk's segment (see ``predictions.batchlog``). Scoring and storing are two
steps: the local engine's workers store a chunk on a thread while they score the next one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa

from modelport.batch.inputs import Chunk
from modelport.batch.output import ChunkResult, OutputFolder, part_name, write_atomic
from modelport.batch.text import read_text_table
from modelport.core.collector import freeze_loaded
from modelport.errors import BatchError, Problem, SchemaError
from modelport.inference.load import check_golden, open_verified, verify
from modelport.inference.model import LoadedModel, Prediction
from modelport.predictions.batchlog import BatchLog

log = logging.getLogger("modelport.batch")

#: columns every output part has besides the id (or row), kept and prediction columns
ROW, MODEL_VERSION, RUN_ID = "row", "model_version", "run_id"
#: columns of a rejects part besides the id (or row)
REASON, INPUT = "reason", "input"


@dataclass(frozen=True)
class ScoringSpec:
    """Everything a worker needs to score chunks; plain data, sent to each worker once."""

    artifact: str
    output: str
    format: str
    model_version: str
    run_id: str
    id_column: str | None = None
    keep_columns: tuple[str, ...] = ()
    allow_env_mismatch: bool = False
    #: native threads (BLAS, OpenMP) per worker: the cores shared out, so workers do not oversubscribe
    threads: int = 1
    #: where and as what the scored rows are logged; None: not logged
    log: BatchLog | None = None

    @property
    def passthrough(self) -> list[str]:
        """Input columns copied to the output as they are: the id column, then the kept ones."""
        return list(dict.fromkeys([*([self.id_column] if self.id_column else []), *self.keep_columns]))


@dataclass(frozen=True)
class Logged:
    """The scored rows of a chunk as the prediction log takes them: inputs, row keys, prediction."""

    inputs: pd.DataFrame
    keys: list[Any] | np.ndarray
    prediction: Prediction


@dataclass(frozen=True)
class Scored:
    """A scored chunk not yet stored: its tables, the rows to log, and the seconds scoring took."""

    chunk: Chunk
    output: pa.Table | None
    rejects: pa.Table | None
    logged: Logged | None
    seconds: float


@dataclass
class Parsed:
    """A chunk's rows as a frame; ``positions`` maps frame rows to rows of the chunk.

    ``table`` is the Arrow chunk the frame came from (its columns pass through with their types);
    ``lines`` the JSON lines, and ``unparsed`` the positions and reasons of lines that are no object.
    """

    frame: pd.DataFrame
    positions: np.ndarray
    table: pa.Table | None = None
    lines: list[bytes] | None = None
    unparsed: tuple[tuple[int, str], ...] = ()


def _decode_line(line: bytes) -> tuple[dict[str, Any] | None, str]:
    try:
        value = msgspec.json.decode(line)
    except msgspec.DecodeError as exc:
        return None, f"<line>: not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"<line>: expected a JSON object, got {type(value).__name__}"
    return value, ""


def parse_lines(data: bytes) -> Parsed:
    lines = data.split(b"\n")
    try:
        records = msgspec.json.decode(b"[" + b",".join(lines) + b"]")
        if not all(isinstance(r, dict) for r in records):
            raise ValueError("not every line is an object")
        positions = np.arange(len(lines))
        unparsed: list[tuple[int, str]] = []
    except (msgspec.DecodeError, ValueError):
        decoded = [_decode_line(line) for line in lines]
        records = [record for record, _ in decoded if record is not None]
        positions = np.array([i for i, (record, _) in enumerate(decoded) if record is not None], dtype=int)
        unparsed = [(i, reason) for i, (record, reason) in enumerate(decoded) if record is None]
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(index=pd.RangeIndex(0))
    return Parsed(frame, positions, lines=lines, unparsed=tuple(unparsed))


def row_reason(problem: Problem, features: pd.DataFrame, row: int) -> str:
    """``field: problem`` for one row, naming that row's own value where validation named an example."""
    if problem.field not in features.columns or not problem.rows:
        return f"{problem.field}: {problem.problem}"
    value = features[problem.field].iloc[row]
    head, got, _ = problem.problem.partition(", got ")
    if got:
        return f"{problem.field}: {head}, got {type(value).__name__} {value!r}"
    if problem.problem.startswith("unknown category "):
        _, known, levels = problem.problem.partition(" (known: ")
        return f"{problem.field}: unknown category {value!r}" + (f" (known: {levels}" if known else "")
    return f"{problem.field}: {problem.problem}"


def split_valid(model: LoadedModel, features: pd.DataFrame
                ) -> tuple[pd.DataFrame | None, np.ndarray, dict[int, list[str]]]:
    """Conformed good rows, the mask of bad rows and each bad row's reasons."""
    bad = np.zeros(len(features), dtype=bool)
    reasons: dict[int, list[str]] = {}
    try:
        conformed, _ = model.validate(features)
        return conformed, bad, reasons
    except SchemaError as exc:
        for problem in exc.problems:
            rows = problem.rows or range(len(features))  # a missing column fails every row
            for row in rows:
                reasons.setdefault(row, []).append(row_reason(problem, features, row))
                bad[row] = True
    if bad.all():
        return None, bad, reasons
    # validation judges each value on its own, so the rows it did not name pass together
    conformed, _ = model.validate(features[~bad].reset_index(drop=True))
    return conformed, bad, reasons


def _arrow(values: pd.Series) -> pa.Array:
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed JSON values: keep each as its text
        return pa.array([None if pd.isna(v) else str(v) for v in values], type=pa.string())


def _raw_json(row: dict[str, Any]) -> str:
    return json.dumps(row, default=str, ensure_ascii=False)


class ChunkScorer:
    """Scores chunks with one loaded model into output and rejects tables."""

    def __init__(self, model: LoadedModel, spec: ScoringSpec) -> None:
        self.model = model
        self.spec = spec
        self.proba = model.task == "classification"

    def parse(self, chunk: Chunk) -> Parsed:
        data = chunk.table()  # Parquet rows are read here, in the worker
        if isinstance(data, bytes):
            return parse_lines(data)
        if data.num_rows != chunk.rows:
            raise BatchError(f"chunk {chunk.index} read {data.num_rows} rows, expected {chunk.rows}: "
                             "did the input change during the run?")
        frame = (read_text_table(data, self.model.signature) if self.spec.format == "csv"
                 else data.to_pandas())
        return Parsed(frame, np.arange(chunk.rows), table=data)

    def score(self, chunk: Chunk) -> tuple[pa.Table | None, pa.Table | None]:
        """The chunk's output table and rejects table; None for one that has no rows."""
        scored = self.score_chunk(chunk)
        return scored.output, scored.rejects

    def score_chunk(self, chunk: Chunk) -> Scored:
        """Everything one chunk gives: output and rejects tables, and the rows to log."""
        started = time.perf_counter()
        parsed = self.parse(chunk)
        names = [n for n in self.model.signature.names if n in parsed.frame.columns]
        features = parsed.frame[names]
        conformed, bad, reasons = split_valid(self.model, features)
        output = logged = None
        if conformed is not None:
            output, logged = self._output(chunk, parsed, np.flatnonzero(~bad), conformed)
        rejects = self._rejects(chunk, parsed, np.flatnonzero(bad), reasons)
        return Scored(chunk, output, rejects, logged, time.perf_counter() - started)

    def _passthrough(self, parsed: Parsed, rows: np.ndarray) -> dict[str, pa.Array | pa.ChunkedArray]:
        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        for name in self.spec.passthrough:
            if parsed.table is not None:
                columns[name] = parsed.table.column(name).take(pa.array(rows, type=pa.int64()))
            elif name in parsed.frame.columns:
                columns[name] = _arrow(parsed.frame[name].iloc[rows])
            else:  # a JSON key no line of the chunk has
                columns[name] = pa.nulls(len(rows))
        return columns

    def _output(self, chunk: Chunk, parsed: Parsed, rows: np.ndarray, conformed: pd.DataFrame
                ) -> tuple[pa.Table, Logged | None]:
        predicted = self.model.predict_frame(conformed, proba=self.proba)
        prediction = predicted.to_frame()
        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        numbers = chunk.start + parsed.positions[rows]
        if not self.spec.id_column:
            columns[ROW] = pa.array(numbers, type=pa.int64())
        columns.update(self._passthrough(parsed, rows))
        if self.spec.format == "csv":  # carried model inputs as read, not as the CSV text they were
            for name in self.spec.passthrough:
                if name in conformed.columns:
                    columns[name] = pa.array(conformed[name], from_pandas=True)
        for name in prediction.columns:
            columns[str(name)] = pa.array(prediction[name], from_pandas=True)
        columns[MODEL_VERSION] = pa.repeat(pa.scalar(self.spec.model_version), len(rows))
        columns[RUN_ID] = pa.repeat(pa.scalar(self.spec.run_id), len(rows))
        logged = None
        if self.spec.log is not None:
            keys = columns[self.spec.id_column].to_pylist() if self.spec.id_column else numbers
            logged = Logged(conformed, keys, predicted)
        return pa.table(columns), logged

    def _rejects(self, chunk: Chunk, parsed: Parsed, rows: np.ndarray,
                 reasons: dict[int, list[str]]) -> pa.Table | None:
        if not len(rows) and not parsed.unparsed:
            return None
        positions = [int(p) for p in parsed.positions[rows]] + [p for p, _ in parsed.unparsed]
        why = ["; ".join(reasons[int(r)]) for r in rows] + [reason for _, reason in parsed.unparsed]
        if parsed.lines is not None:
            raw = [parsed.lines[p].decode("utf-8", "replace") for p in positions]
        else:
            assert parsed.table is not None
            raw = [_raw_json(r) for r in parsed.table.take(pa.array(rows, type=pa.int64())).to_pylist()]
        columns: dict[str, pa.Array | pa.ChunkedArray] = {ROW: pa.array(
            [chunk.start + p for p in positions], type=pa.int64())}
        if self.spec.id_column:
            ids = self._passthrough(parsed, rows)[self.spec.id_column]
            columns[self.spec.id_column] = pa.concat_arrays([
                *(ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]),
                pa.nulls(len(parsed.unparsed), type=ids.type)])
        columns[REASON] = pa.array(why, type=pa.string())
        columns[INPUT] = pa.array(raw, type=pa.string())
        return pa.table(columns).sort_by(ROW)

    def store(self, scored: Scored, folder: OutputFolder) -> ChunkResult:
        """Write a scored chunk's parts and log segment atomically; the main process then records it
        as finished, so a chunk counts as done only once all of them are on disk."""
        started = time.perf_counter()
        chunk, output, rejects = scored.chunk, scored.output, scored.rejects
        part = rejects_part = None
        if output is not None and output.num_rows:
            part = part_name(chunk.index)
            write_atomic(folder.root / part, output)
        if rejects is not None:
            rejects_part = part_name(chunk.index)
            write_atomic(folder.rejects / rejects_part, rejects)
        if self.spec.log is not None and scored.logged is not None:
            logged = scored.logged
            self.spec.log.write(part_name(chunk.index).removesuffix(".parquet"), logged.inputs,
                                logged.keys, logged.prediction.values, logged.prediction.probabilities,
                                logged.prediction.labels, scored.seconds * 1000 / max(1, chunk.rows))
        count = output.num_rows if output is not None else 0
        return ChunkResult(chunk.index, chunk.start, chunk.rows, count, chunk.rows - count, part,
                           rejects_part, scored.seconds + time.perf_counter() - started)

    def write(self, chunk: Chunk, folder: OutputFolder) -> ChunkResult:
        """Score the chunk and store it."""
        return self.store(self.score_chunk(chunk), folder)


class _Worker:
    """A worker's scorer, and the thread that stores one chunk while the worker scores the next."""

    def __init__(self, scorer: ChunkScorer, folder: OutputFolder) -> None:
        self.scorer = scorer
        self.folder = folder
        self.storing: ThreadPoolExecutor | None = None

    def __call__(self, chunk: Chunk) -> Future[ChunkResult]:
        if self.storing is None:  # made in the worker: a thread does not survive the fork
            self.storing = ThreadPoolExecutor(1, thread_name_prefix="modelport-store")
        scored = self.scorer.score_chunk(chunk)
        return self.storing.submit(self.scorer.store, scored, self.folder)


def start_worker(spec: ScoringSpec) -> Callable[[Chunk], Future[ChunkResult]]:
    """Load the model once for the workers; return the function that scores one chunk and stores it
    on a thread, its future resolving once the chunk's files are on disk.

    This runs in the process that then forks the workers, so it computes on one thread only: an
    OpenMP runtime (scikit-learn's HistGradientBoosting, LightGBM, XGBoost) whose thread team
    started before a fork leaves the forked workers waiting forever on threads they do not have.
    The limits are set once the model's framework is loaded (threadpoolctl limits only the
    runtimes loaded when it is called) and before its golden check computes anything.
    """
    from threadpoolctl import threadpool_limits

    verified = verify(Path(spec.artifact), allow_env_mismatch=spec.allow_env_mismatch)
    for warning in verified.environment.warnings:
        log.warning("artifact %s: %s", verified.manifest.name, warning)
    model = open_verified(verified)  # digests and lock checked above, before deserializing
    threadpool_limits(1)
    check_golden(model, verified)
    threadpool_limits(spec.threads)  # the workers' share of the cores, from their first chunk on
    worker = _Worker(ChunkScorer(model, spec), OutputFolder(Path(spec.output)))
    freeze_loaded()  # the interpreter, the frameworks and the model live as long as the worker
    return worker
