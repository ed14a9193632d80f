"""What a report reads: the prediction-log frame contract, and the reference sample of an artifact.

The predictions frame has one row per prediction: ``id``, ``time`` (UTC timestamps), ``model``,
``version``, ``status`` (the HTTP status), ``latency_ms``, ``input.<column>`` per raw input column,
``prediction``, ``proba.<label>`` per class for classifiers, and optionally ``label`` (delayed ground
truth joined by id; missing where it has not arrived). Whatever writes the log, this module is the
one place that knows those names; everything else asks it for the inputs, outputs or labelled rows.

The prediction log (:mod:`modelport.predictions`) writes this layout, plus ``role`` and
``sample_rate``. What a log does to values is undone or avoided here: labels read back as text
(``"1"`` for the class 1) get the reference's classes again, and input columns stored as salted
digests are recognised so they are not compared with the reference's raw values.
"""

from __future__ import annotations

import re
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
ROLE = "role"
SAMPLE_RATE = "sample_rate"
INPUT_PREFIX = "input."
PROBA_PREFIX = "proba."
#: the columns every predictions frame must have (``id``, ``model`` and ``label`` are optional here)
REQUIRED = (TIME, STATUS, LATENCY, PREDICTION)
#: how the log stores a hashed input value: a sha256 hex digest
DIGEST = re.compile(r"[0-9a-f]{64}")
#: values looked at to tell whether a column holds digests
DIGEST_SAMPLE = 1000


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


def _as_classes(values: pd.Series, classes: tuple[Any, ...]) -> pd.Series | None:
    """The values with text spellings of a class (``"1"``) replaced by the class; None if all fit."""
    known = set(classes)
    if values.dropna().isin(known).all():
        return None
    by_text = {str(c): c for c in classes}
    fixed = [v if v in known or pd.isna(v) else by_text.get(str(v), v) for v in values.tolist()]
    return pd.Series(fixed, index=values.index, dtype=object)


def conform(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """The frame with predictions and labels of the reference's types (a copy only when one changes)."""
    changes: dict[str, pd.Series] = {}
    for column in (PREDICTION, LABEL):
        if column not in frame:
            continue
        values = frame[column]
        if reference.task == "classification" and reference.classes:
            fixed = _as_classes(values, reference.classes)
            if fixed is not None:
                changes[column] = fixed
        elif reference.task == "regression" and not pd.api.types.is_numeric_dtype(values.dtype):
            changes[column] = pd.to_numeric(values, errors="coerce")
    return frame.assign(**changes) if changes else frame


def _digests(values: pd.Series) -> bool:
    sample = values.dropna().head(DIGEST_SAMPLE)
    return bool(len(sample)) and bool(sample.map(lambda v: isinstance(v, str) and DIGEST.fullmatch(v)
                                                 is not None).all())


def hashed(frame: pd.DataFrame, reference: Reference) -> list[str]:
    """The features the log stores as digests while the reference holds raw values."""
    out = []
    for name in reference.features:
        column = f"{INPUT_PREFIX}{name}"
        if column not in frame or pd.api.types.is_numeric_dtype(frame[column].dtype):
            continue
        if _digests(frame[column]) and not _digests(reference.inputs[name]):
            out.append(name)
    return out
