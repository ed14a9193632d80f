"""What a report reads: the prediction-log frame contract, and the reference sample of an artifact.

The predictions frame has one row per prediction: ``id``, ``time`` (UTC timestamps), ``model``,
``version``, ``status`` (the HTTP status), ``latency_ms``, ``input.<column>`` per raw input column,
``prediction``, ``proba.<label>`` per class for classifiers, and optionally ``label`` (delayed ground
truth joined by id; missing where it has not arrived). Whatever writes the log, this module is the
one place that knows those names; everything else asks it for the inputs, outputs or labelled rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from modelport.core.schema import Signature
from modelport.errors import ArtifactFormatError, Problem, SchemaError
from modelport.inference import reference as artifact_reference
from modelport.inference.load import verify

ID = "id"
TIME = "time"
MODEL = "model"
VERSION = "version"
STATUS = "status"
LATENCY = "latency_ms"
PREDICTION = "prediction"
LABEL = "label"
INPUT_PREFIX = "input."
PROBA_PREFIX = "proba."
#: the columns every predictions frame must have (``id``, ``model`` and ``label`` are optional here)
REQUIRED = (TIME, STATUS, LATENCY, PREDICTION)


def proba_column(label: Any) -> str:
    return f"{PROBA_PREFIX}{label}"


@dataclass(frozen=True)
class Reference:
    """An artifact's reference sample split by role, with what the manifest says about the model."""

    name: str
    digest: str
    task: str
    signature: Signature
    classes: tuple[Any, ...]
    inputs: pd.DataFrame
    outputs: pd.DataFrame
    target: pd.Series | None
    importances: Mapping[str, Mapping[str, float]]
    version: str | None = None

    @property
    def features(self) -> list[str]:
        return [spec.name for spec in self.signature.inputs]

    @property
    def score_columns(self) -> list[str]:
        return [proba_column(label) for label in self.classes]

    @property
    def labelled(self) -> pd.DataFrame:
        """The outputs with the ground truth as ``label`` (no rows when the sample has no target)."""
        if self.target is None:
            return self.outputs.iloc[:0].assign(**{LABEL: pd.Series(dtype=object)})
        return self.outputs.assign(**{LABEL: self.target.to_numpy()})


def load_reference(path: str | Path, version: str | None = None) -> Reference:
    """The reference sample of the artifact at ``path`` (digests checked, the model not loaded)."""
    verified = verify(path, allow_env_mismatch=True)
    manifest = verified.manifest
    if not (verified.root / artifact_reference.SAMPLE).is_file():
        raise ArtifactFormatError(f"{path} has no reference sample ({artifact_reference.SAMPLE}) "
                                  "to monitor with")
    sample = artifact_reference.read_sample(verified.root)
    importances: dict[str, dict[str, float]] = {}
    if (verified.root / artifact_reference.IMPORTANCES).is_file():
        importances = artifact_reference.read_importances(verified.root)
    classes = tuple(manifest.labels or ()) if manifest.task == "classification" else ()
    features = [spec.name for spec in manifest.signature.inputs]
    outputs = pd.DataFrame({PREDICTION: sample[artifact_reference.PREDICTION_COLUMN]})
    for label in classes:
        stored = f"{artifact_reference.PROBA_PREFIX}{label}"
        if stored in sample:
            outputs[proba_column(label)] = sample[stored]
    target = sample.get(artifact_reference.TARGET_COLUMN)
    return Reference(manifest.name, verified.digest, manifest.task, manifest.signature, classes,
                     sample[features], outputs, target, importances, version)


def check_predictions(frame: pd.DataFrame) -> None:
    """Raise SchemaError naming every required column the predictions frame lacks."""
    missing = [Problem(name, "missing from the predictions frame") for name in REQUIRED if name not in frame]
    if missing:
        raise SchemaError(missing)
    if not pd.api.types.is_datetime64_any_dtype(frame[TIME].dtype):
        raise SchemaError([Problem(TIME, f"must hold timestamps, not {frame[TIME].dtype}")])


def succeeded(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows the model answered (a 2xx status): the only ones drift and performance look at."""
    status = pd.to_numeric(frame[STATUS], errors="coerce")
    return frame[(status >= 200) & (status < 300)]


def inputs(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The raw input columns under their own names (a feature the log lacks is absent here too)."""
    present = {f"{INPUT_PREFIX}{name}": name for name in features if f"{INPUT_PREFIX}{name}" in frame}
    return frame[list(present)].rename(columns=present).reset_index(drop=True)


def outputs(frame: pd.DataFrame, scores: list[str]) -> pd.DataFrame:
    """The prediction and the score columns the log holds."""
    return frame[[PREDICTION, *(c for c in scores if c in frame)]].reset_index(drop=True)


def labels(frame: pd.DataFrame) -> pd.Series:
    """The delayed ground truth per row, missing (None) where it has not arrived or is not logged."""
    if LABEL not in frame:
        return pd.Series([None] * len(frame), dtype=object)
    return frame[LABEL].reset_index(drop=True)


def versions(frame: pd.DataFrame) -> pd.Series:
    """The model version of each row as text (``-`` when the log has no version column)."""
    if VERSION not in frame:
        return pd.Series(["-"] * len(frame), index=frame.index, dtype=object)
    return frame[VERSION].astype(str)
