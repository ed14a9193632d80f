"""A Spark column expression that scores rows with an artifact: ``predict_udf`` for users' own pipelines.

The UDF is a pandas UDF (Arrow batches in, Arrow batches out, no per-row Python call) over one
struct of the signature's columns, returning a struct of the batch output's prediction columns
(``prediction``, ``proba_<label>`` for classifiers) and ``reason``: null for a scored row, the
signature errors of a row that failed validation (whose predictions are then null), as the batch
engines' rejects say them. Rows are validated and predicted by the chunk scorer's own path, so the
UDF predicts what ``modelport batch`` writes.

The artifact goes to a cluster's executors once (``SparkContext.addFile``; on a ``local`` master
they read it in place) and is loaded once per Python worker process, which Spark reuses from task
to task, and kept there for the next query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from modelport.batch.scoring import split_valid
from modelport.engines.spark import require_pyspark
from modelport.errors import BatchError
from modelport.inference.load import load, verify
from modelport.inference.model import LoadedModel

if TYPE_CHECKING:
    from pyspark.sql import Column, SparkSession
    from pyspark.sql.types import DataType, StructType

#: the column naming why a row was not scored
REASON = "reason"

#: models loaded in this Python worker process, by artifact digest
_LOADED: dict[str, LoadedModel] = {}


@dataclass(frozen=True)
class UdfModel:
    """What each Python worker needs to find and load the artifact; plain data, pickled with the UDF."""

    artifact: str
    digest: str
    names: tuple[str, ...]
    proba: bool
    allow_env_mismatch: bool = False
    #: the name ``SparkContext.addFile`` shipped the artifact under; None: read ``artifact`` in place
    shipped: str | None = None

    def model(self) -> LoadedModel:
        """The loaded model, loaded on this process's first call."""
        loaded = _LOADED.get(self.digest)
        if loaded is None:
            path = self.artifact
            if self.shipped is not None:
                from pyspark import SparkFiles

                path = SparkFiles.get(self.shipped)
            loaded = _LOADED[self.digest] = load(Path(path), allow_env_mismatch=self.allow_env_mismatch)
        return loaded


def score_frame(model: LoadedModel, frame: pd.DataFrame, proba: bool) -> pd.DataFrame:
    """The prediction columns for every row of ``frame``: nulls and the reason for a rejected row."""
    names = [n for n in model.signature.names if n in frame.columns]
    conformed, bad, reasons = split_valid(model, frame[names].reset_index(drop=True))
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    good = np.flatnonzero(~bad)
    prediction = model.predict_frame(conformed, proba=proba).to_frame() if conformed is not None else None
    columns = output_names(model.labels if proba else None, model.task)
    for name in columns:
        values = pd.Series([None] * len(frame), dtype=object)
        if prediction is not None:
            values.iloc[good] = list(prediction[name])
        out[name] = values
    out[REASON] = pd.Series(["; ".join(reasons[i]) if bad[i] else None for i in range(len(frame))],
                            dtype=object)
    return out


def output_names(labels: list[Any] | None, task: str) -> list[str]:
    probabilities = [f"proba_{label}" for label in labels or []] if task == "classification" else []
    return ["prediction", *probabilities]


def _prediction_type(labels: list[Any] | None, task: str) -> DataType:
    from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType

    if task != "classification" or not labels:
        return DoubleType()
    if all(isinstance(label, bool | np.bool_) for label in labels):
        return BooleanType()
    if all(isinstance(label, int | np.integer) for label in labels):
        return LongType()
    if all(isinstance(label, float | np.floating) for label in labels):
        return DoubleType()
    return StringType()


def result_schema(labels: list[Any] | None, task: str, proba: bool) -> StructType:
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    fields = [StructField("prediction", _prediction_type(labels, task))]
    fields += [StructField(name, DoubleType()) for name in output_names(labels if proba else None, task)[1:]]
    return StructType([*fields, StructField(REASON, StringType())])


def _scorer(state: UdfModel) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def predict(rows: pd.DataFrame) -> pd.DataFrame:
        return score_frame(state.model(), rows, state.proba)

    return predict


class ModelUdf:
    """Call it to get the column: ``df.withColumn("scored", udf())`` scores the signature's columns
    of ``df`` by name; ``udf("a", F.col("b") * 2)`` scores the given columns (named as the signature)."""

    def __init__(self, state: UdfModel, schema: StructType) -> None:
        from pyspark.sql import functions

        self.state = state
        self.schema = schema
        self.udf = functions.pandas_udf(_scorer(state), schema)  # type: ignore[attr-defined]

    def __call__(self, *columns: str | Column) -> Column:
        from pyspark.sql import functions as F

        chosen = columns or tuple(self.state.names)
        if len(chosen) != len(self.state.names):
            raise BatchError(f"the model takes {len(self.state.names)} columns "
                             f"({', '.join(self.state.names)}), got {len(chosen)}")
        named = [(F.col(c) if isinstance(c, str) else c).alias(name)
                 for c, name in zip(chosen, self.state.names, strict=True)]
        column: Column = self.udf(F.struct(*named))
        return column


def model_udf(artifact: Path, *, proba: bool = True, allow_env_mismatch: bool = False,
              spark: SparkSession | None = None) -> ModelUdf:
    """The UDF scoring with the artifact at ``artifact`` (verified here, on the driver, first)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    verified = verify(artifact, allow_env_mismatch=allow_env_mismatch)
    manifest = verified.manifest
    proba = proba and manifest.task == "classification"
    state = UdfModel(str(verified.root), verified.digest, tuple(manifest.signature.names), proba,
                     allow_env_mismatch)
    session = spark or SparkSession.getActiveSession()
    if session is None:
        raise BatchError("predict_udf needs an active SparkSession (create one first, or pass spark=)")
    if not str(session.sparkContext.master).startswith("local"):  # executors elsewhere get it once
        session.sparkContext.addFile(str(verified.root), recursive=True)
        state = replace(state, shipped=verified.root.name)
    return ModelUdf(state, result_schema(manifest.labels, manifest.task, proba))
