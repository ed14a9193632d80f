"""Score the rows of your own Spark DataFrames with a modelport artifact: ``predict_udf``.

::

    from modelport.spark import predict_udf

    score = predict_udf("credit@production")       # any registry ref or artifact path
    scored = frame.withColumn("scored", score())    # the signature's columns, by name
    scored.select("id", "scored.prediction", "scored.proba_bad", "scored.reason")

The column is a struct of the prediction columns ``modelport batch`` writes, plus ``reason``
(null, or why the row failed validation). The artifact is resolved and verified here, shipped to
the executors once and loaded once per Python worker process (see ``modelport.batch.spark_udf``).
Needs the ``spark`` extra: ``pip install 'modelport[spark]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modelport.batch.spark_udf import REASON, ModelUdf, model_udf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from modelport.registry.service import Registry


def predict_udf(ref: str | Path, *, proba: bool = True, allow_env_mismatch: bool = False,
                spark: SparkSession | None = None, using: Registry | None = None) -> ModelUdf:
    """A UDF scoring with the model ``ref`` names; call it to get the column (see the module docstring).

    ``ref``: an artifact path, or a registry ref (``name:3``, ``name@production``, a digest)
    looked up in ``using`` (default: the registry the environment configures). ``proba``: add the
    class probabilities of a classifier. ``spark``: the session (default: the active one).
    """
    from modelport import open_registry

    registry = using or open_registry()
    try:
        path = registry.resolve(ref, verify=True).path
    finally:
        if using is None:
            registry.close()
    return model_udf(path, proba=proba, allow_env_mismatch=allow_env_mismatch, spark=spark)


__all__ = ["REASON", "ModelUdf", "predict_udf"]
