"""A batch run from start to summary: plan it, resume it, score its chunks on an engine, judge it.

The engine-agnostic part of batch scoring: which chunks remain, what the output folder records,
what the counts are and whether the reject rate fails the run. Scoring a chunk is
:mod:`modelport.batch.scoring`; running it on worker processes is :mod:`modelport.engines.local`.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelport.batch.inputs import Chunk, InputSource
from modelport.batch.output import SUMMARY, ChunkResult, OutputFolder, part_name
from modelport.batch.scoring import MODEL_VERSION, ROW, RUN_ID, ScoringSpec, start_worker
from modelport.core import allocator
from modelport.engines.local import LocalPool, PoolConfig, default_workers
from modelport.errors import BatchError, Problem, RejectRateError, SchemaError
from modelport.inference.load import Verified, verify
from modelport.predictions.batchlog import BatchLog
from modelport.predictions.records import to_us

#: the header fields a resumed run must share with the run it continues
RESUME_KEYS = ("model", "input", "options")


@dataclass(frozen=True)
class BatchConfig:
    """How to score: chunk size, worker processes, columns to carry, resume, the reject budget."""

    chunk_rows: int = 50_000
    workers: int = field(default_factory=default_workers)
    id_column: str | None = None
    keep_columns: tuple[str, ...] = ()
    resume: bool = False
    max_reject_rate: float = 0.01
    allow_env_mismatch: bool = False
    engine: str = "local"
    #: the Spark master the spark engine submits to
    master: str = "local[*]"
    #: the prediction log's folder (``$MODELPORT_HOME/predictions``); None: the rows are not logged
    log_root: Path | None = None
    #: the share of rows logged, chosen by the hash of each row's id
    log_sample_rate: float = 1.0
    #: input columns never logged, and input columns logged as salted hashes
    log_exclude: tuple[str, ...] = ()
    log_hash: tuple[str, ...] = ()
    log_salt: str = ""

    def __post_init__(self) -> None:
        if self.chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {self.chunk_rows}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if not 0.0 <= self.max_reject_rate <= 1.0:
            raise ValueError(f"max_reject_rate must be between 0 and 1, got {self.max_reject_rate}")
        if self.engine not in ("local", "spark"):
            raise ValueError(f"engine must be local or spark, got {self.engine!r}")
        if not 0.0 <= self.log_sample_rate <= 1.0:
            raise ValueError(f"log_sample_rate must be between 0 and 1, got {self.log_sample_rate}")


@dataclass(frozen=True)
class ModelSource:
    """The artifact to score with (a folder or ``.tar``) and the version written beside each row."""

    path: Path
    version: str | None = None
    #: the model name and version the prediction log files its rows under (as ``modelport serve``
    #: logs them: the registry's name and version number); None: the manifest's name and digest
    logged_as: tuple[str, str] | None = None


@dataclass(frozen=True)
class BatchProgress:
    """Where a run stands: rows finished (resumed chunks included) of ``total`` when known."""

    rows: int
    total: int | None
    rejected: int
    chunks: int
    seconds: float
    new_rows: int

    @property
    def rows_per_second(self) -> float:
        return self.new_rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class BatchSummary:
    """What a run did; ``rows``/``rejected`` count the whole run, the timing only this session."""

    run_id: str
    output: str
    status: str
    rows: int
    scored: int
    rejected: int
    chunks: int
    resumed_chunks: int
    seconds: float
    rows_per_second: float
    peak_chunks_in_flight: int
    chunk_rows: int
    #: seconds until the workers were ready (model loaded and golden-checked once, workers forked)
    startup_seconds: float = 0.0

    @property
    def reject_rate(self) -> float:
        return self.rejected / self.rows if self.rows else 0.0

    @property
    def peak_rows_in_flight(self) -> int:
        """At most this many input rows were held by workers and their queues at once."""
        return self.peak_chunks_in_flight * self.chunk_rows

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"reject_rate": self.reject_rate}


ProgressCallback = Callable[[BatchProgress], None]


def output_columns(labels: list[Any] | None, task: str) -> list[str]:
    """The prediction columns an output part has (``Prediction.to_frame``'s names)."""
    probabilities = [f"proba_{label}" for label in labels or []] if task == "classification" else []
    return ["prediction", *probabilities]


def _check_columns(source: InputSource, verified: Verified, config: BatchConfig) -> None:
    manifest = verified.manifest
    carried = [*([config.id_column] if config.id_column else []), *config.keep_columns]
    reserved = {ROW, MODEL_VERSION, RUN_ID, *output_columns(manifest.labels, manifest.task)}
    clashes = sorted(set(carried) & reserved)
    if clashes:
        raise BatchError(f"columns {clashes} would clash with the output's own columns; rename them "
                         "in the input or do not carry them")
    present = source.column_names()
    if present is None:
        return
    missing = [name for name in manifest.signature.names if name not in present]
    if missing:
        raise SchemaError([Problem(name, "missing column in the batch input") for name in missing])
    absent = [name for name in carried if name not in present]
    if absent:
        raise BatchError(f"the input has no column {absent[0]!r} to carry (columns: {present})")


def _header(verified: Verified, model: ModelSource, source: InputSource, config: BatchConfig
            ) -> dict[str, Any]:
    return {
        "run_id": uuid.uuid4().hex,
        "started": datetime.now(UTC).isoformat(),
        "model": {"name": verified.manifest.name, "version": model.version,
                  "digest": verified.digest},
        "input": {"format": source.format, "files": source.fingerprint()},
        "options": {"chunk_rows": config.chunk_rows, "id_column": config.id_column,
                    "keep_columns": list(config.keep_columns), "engine": config.engine,
                    # a resumed run samples the same rows into the same log
                    "log": None if config.log_root is None else {
                        "root": str(config.log_root), "sample_rate": config.log_sample_rate}},
    }


def _batch_log(header: dict[str, Any], verified: Verified, model: ModelSource, config: BatchConfig
               ) -> BatchLog | None:
    """Where the run's rows are logged, and as what; every row takes the run's start as its time."""
    if config.log_root is None:
        return None
    name, version = model.logged_as or (verified.manifest.name, verified.digest[:12])
    started = datetime.fromisoformat(header["started"])
    return BatchLog(str(config.log_root), name, version, header["run_id"], to_us(started),
                    config.log_sample_rate, config.log_exclude, config.log_hash, config.log_salt)


class _Tally:
    """Running counts of a run, resumed chunks included."""

    def __init__(self, done: dict[int, ChunkResult]) -> None:
        self.rows = sum(r.rows for r in done.values())
        self.rejected = sum(r.rejected for r in done.values())
        self.chunks = len(done)
        self.resumed = len(done)
        self.new_rows = 0
        self.started = time.perf_counter()

    def add(self, result: ChunkResult) -> None:
        self.rows += result.rows
        self.rejected += result.rejected
        self.chunks += 1
        self.new_rows += result.rows

    def progress(self, total: int | None) -> BatchProgress:
        return BatchProgress(self.rows, total, self.rejected, self.chunks,
                             time.perf_counter() - self.started, self.new_rows)


@dataclass(frozen=True)
class Plan:
    """What a run scores and how, and which chunks earlier sessions of it finished."""

    source: InputSource
    folder: OutputFolder
    spec: ScoringSpec
    config: BatchConfig
    columns: list[str] | None
    total: int | None
    done: dict[int, ChunkResult]


@dataclass
class EngineStats:
    """What an engine reports beside its results: read-ahead held and time to start its workers."""

    peak_chunks_in_flight: int = 0
    startup_seconds: float = 0.0


#: an engine: scores the plan's remaining chunks, yielding each finished one
Engine = Callable[[Plan, EngineStats], Generator[ChunkResult, None, None]]


def run_local(plan: Plan, stats: EngineStats) -> Generator[ChunkResult, None, None]:
    """Score on a pool of worker processes on this machine, the main process reading ahead."""
    remaining = (chunk for chunk in plan.source.chunks(plan.config.chunk_rows, plan.columns)
                 if chunk.index not in plan.done)
    pool: LocalPool[ScoringSpec, Chunk, ChunkResult] = LocalPool(
        start_worker, plan.spec, PoolConfig(workers=plan.config.workers, environment=allocator.ENVIRONMENT))
    with pool:
        for result in pool.map_unordered(remaining):
            stats.peak_chunks_in_flight = pool.stats.peak_in_flight
            stats.startup_seconds = pool.stats.ready_seconds or 0.0
            yield result


def _spark(plan: Plan, stats: EngineStats) -> Generator[ChunkResult, None, None]:
    from modelport.batch.spark_job import run_spark

    yield from run_spark(plan, stats)


ENGINES: dict[str, Engine] = {"local": run_local, "spark": _spark}


def plan_run(model: ModelSource, where: str, output: Path, config: BatchConfig) -> Plan:
    """Check the model, the input and the output folder; start the run or pick up the one there."""
    verified = verify(model.path, allow_env_mismatch=config.allow_env_mismatch)
    signature = verified.manifest.signature
    source = InputSource.open(where, text_columns=tuple(signature.names))
    _check_columns(source, verified, config)
    folder = OutputFolder(output)
    header = _header(verified, model, source, config)
    if config.resume and folder.exists():
        header = folder.resume({k: header[k] for k in RESUME_KEYS})
        done = folder.finished()
    else:
        folder.start(header)
        done = {}
    spec = ScoringSpec(str(verified.root), str(output), source.format,
                       model.version or f"{verified.manifest.name}@{verified.digest[:12]}",
                       header["run_id"], config.id_column, config.keep_columns, config.allow_env_mismatch,
                       threads=max(1, default_workers() // config.workers),
                       log=_batch_log(header, verified, model, config))
    if config.resume:  # what a stopped session wrote but never recorded is scored again, maybe cut otherwise
        folder.drop_unfinished(done)
        if spec.log is not None:
            spec.log.drop_unfinished({part_name(r.index).removesuffix(".parquet") for r in done.values()})
    columns = None if source.format == "json" else list(dict.fromkeys([*signature.names,
                                                                        *spec.passthrough]))
    return Plan(source, folder, spec, config, columns, source.count_rows(), done)


def run_batch(model: ModelSource, where: str, output: Path, config: BatchConfig,
              on_progress: ProgressCallback | None = None) -> BatchSummary:
    """Score every row of ``where`` into ``output`` (or what remains, with ``config.resume``).

    Raises RejectRateError once the rejects exceed ``config.max_reject_rate`` of the rows: at the
    end, or as soon as they exceed it of the whole input when its size is known beforehand.
    """
    plan = plan_run(model, where, output, config)
    if config.resume and (output / SUMMARY).exists():
        return _judge(BatchSummary(**_stored_summary(plan.folder)), config)
    tally = _Tally(plan.done)
    if on_progress:
        on_progress(tally.progress(plan.total))
    stats = EngineStats()
    # closing: an error here stops the engine's workers now, not whenever the generator is collected
    with contextlib.closing(ENGINES[config.engine](plan, stats)) as results:
        for result in results:
            plan.folder.record(result)
            tally.add(result)
            if on_progress:
                on_progress(tally.progress(plan.total))
            if plan.total is not None and tally.rejected > config.max_reject_rate * plan.total:
                raise RejectRateError(tally.rejected, plan.total, config.max_reject_rate)
    seconds = time.perf_counter() - tally.started
    summary = BatchSummary(
        run_id=plan.spec.run_id, output=str(output), status="complete", rows=tally.rows,
        scored=tally.rows - tally.rejected, rejected=tally.rejected, chunks=tally.chunks,
        resumed_chunks=tally.resumed, seconds=seconds,
        rows_per_second=tally.new_rows / seconds if seconds > 0 else 0.0,
        peak_chunks_in_flight=stats.peak_chunks_in_flight, chunk_rows=config.chunk_rows,
        startup_seconds=stats.startup_seconds)
    plan.folder.complete(summary.to_dict())
    return _judge(summary, config)


def _stored_summary(folder: OutputFolder) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads((folder.root / SUMMARY).read_text())
    stored.pop("reject_rate", None)
    return stored


def _judge(summary: BatchSummary, config: BatchConfig) -> BatchSummary:
    if summary.reject_rate > config.max_reject_rate:
        raise RejectRateError(summary.rejected, summary.rows, config.max_reject_rate)
    return summary
