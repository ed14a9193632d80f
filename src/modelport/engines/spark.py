"""Run batch work as a Spark job: a session, and ``mapInArrow`` with a setup once per Python worker.

Like the local pool, this module knows nothing of models: ``setup(state)`` runs once in each of
Spark's Python worker processes (which Spark reuses from task to task) and returns the function
that turns one Arrow batch into result batches. pyspark is imported only when a job runs; without
it, MissingDependencyError names the pip extra.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from modelport.errors import MissingDependencyError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

S = TypeVar("S")

#: what ``setup`` returned, per key, in this Python worker process
_SET_UP: dict[str, Any] = {}


@dataclass(frozen=True)
class SparkConfig:
    """Where to run (a master URL; ``local[*]`` is every core of this machine) and the Arrow batch size."""

    master: str = "local[*]"
    app_name: str = "modelport batch"
    batch_rows: int = 10_000

    @property
    def local(self) -> bool:
        return self.master.startswith("local")


def require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("pyspark", "spark") from exc


@contextmanager
def spark_session(config: SparkConfig) -> Iterator[SparkSession]:
    """The active session if there is one (left running), else a new one, stopped afterwards."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(config.batch_rows))
        yield active
        return
    builder = (SparkSession.builder.master(config.master).appName(config.app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(config.batch_rows)))
    if config.local:
        # pyspark starts its Python workers with $PYSPARK_PYTHON: this interpreter unless the user
        # chose one; and on one machine nothing needs to listen beyond it
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress",
                                                                           "127.0.0.1")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def map_in_arrow(frame: DataFrame, setup: Callable[[S], Callable[[pa.RecordBatch], Iterator[pa.RecordBatch]]],
                 state: S, key: str, schema: str) -> DataFrame:
    """``frame.mapInArrow`` through the function ``setup(state)`` returns, set up once per process."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        work = _SET_UP.get(key)
        if work is None:
            work = _SET_UP[key] = setup(state)
        for batch in batches:
            yield from work(batch)

    return frame.mapInArrow(run, schema)
