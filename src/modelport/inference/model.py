"""THE path from raw input to prediction: frame → validate → preprocess → model → postprocess.

Serving, batch scoring, the golden check and the edge runtime all call :class:`LoadedModel`;
nothing else turns raw input into predictions.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelport.artifact.flavors import Flavor, RawOutputs
from modelport.artifact.manifest import Manifest
from modelport.artifact.preprocess import Preprocessor
from modelport.core.columns import ColumnRows, column_rows, columns_frame
from modelport.core.frames import to_frame
from modelport.core.schema import Signature
from modelport.core.validation import check, matrix_frame, numeric_matrix, validate_matrix
from modelport.errors import ModelportError, PredictionError, Problem

#: rows that passed validation: a conformed frame, or a float matrix of an all-numeric signature.
Rows = pd.DataFrame | np.ndarray | ColumnRows

log = logging.getLogger("modelport.inference")

#: flavor_meta key set when ``labels`` name the class indices 0..k-1 a model predicts
LABELS_NAME_INDICES = "labels_name_indices"


@dataclass(frozen=True)
class Prediction:
    """Postprocessed outputs for a batch of rows.

    ``values``: labels (classification) or numbers; ``probabilities``: (n, k) with columns in
    ``labels`` order, for classifiers; ``warnings``: values outside the training range.
    """

    values: np.ndarray
    probabilities: np.ndarray | None = None
    labels: list[Any] | None = None
    warnings: list[Problem] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One column ``prediction`` plus ``proba_<label>`` per class."""
        frame = pd.DataFrame({"prediction": _column(self.values)})
        if self.probabilities is not None and self.labels is not None:
            for i, label in enumerate(self.labels):
                frame[f"proba_{label}"] = self.probabilities[:, i]
        return frame


def _column(values: np.ndarray) -> Any:
    return list(values) if values.ndim > 1 else values


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def scores_to_probabilities(scores: np.ndarray, transform: str) -> np.ndarray:
    """Turn a network's class scores into an (n, k) probability matrix."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores.reshape(-1, 1)
    if scores.shape[1] == 1:
        positive = scores[:, 0]
        if transform == "logits":
            positive = 1.0 / (1.0 + np.exp(-positive))
        return np.column_stack([1.0 - positive, positive])
    return _softmax(scores) if transform == "logits" else scores


def score_transform(scores: np.ndarray) -> str:
    """Decide at pack time whether a network outputs probabilities or logits."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1 or scores.shape[1] == 1:
        inside = bool(np.all((scores >= 0) & (scores <= 1)))
        return "probabilities" if inside else "logits"
    sums = scores.sum(axis=1)
    inside = bool(np.all(scores >= 0)) and bool(np.allclose(sums, 1.0, atol=1e-3))
    return "probabilities" if inside else "logits"


class LoadedModel:
    """A verified artifact ready to predict; the one object every way in calls."""

    def __init__(self, manifest: Manifest, flavor: Flavor, model: object,
                 preprocessor: Preprocessor | None, digest: str, path: Path | None) -> None:
        self.manifest = manifest
        self.flavor = flavor
        self.model = model
        self.preprocessor = preprocessor
        self.digest = digest
        self.path = path
        #: where the model computes: "cpu" unless load(device=...) placed it on an accelerator
        self.device = "cpu"
        # one list for every prediction (callers must not change it), so consumers can cache by identity
        self._label_list: list[Any] = list(self.labels or [])

    @property
    def signature(self) -> Signature:
        return self.manifest.signature

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def task(self) -> str:
        return self.manifest.task

    @property
    def labels(self) -> list[Any] | None:
        return self.manifest.labels

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.manifest.flavor_meta

    def __repr__(self) -> str:
        return f"LoadedModel({self.name!r}, flavor={self.flavor.name!r}, digest={self.digest[:12]})"

    def validate(self, raw: Any) -> tuple[pd.DataFrame, list[Problem]]:
        """Raw input → conformed frame and range warnings; raises SchemaError listing everything."""
        return check(to_frame(raw, self.signature), self.signature)

    def validate_rows(self, raw: Any) -> tuple[Rows, list[Problem]]:
        """Like ``validate``, but a plainly numeric matrix stays a float matrix (no frame built).

        Serving validates each request this way and ``join`` builds one frame per batch, which
        saves a DataFrame per request on all-numeric models; the rows predicted are the same.
        """
        matrix = numeric_matrix(raw, self.signature)
        if matrix is not None:
            checked = validate_matrix(matrix, self.signature)
            if checked is not None:
                return matrix, checked.warnings
        elif not self.signature.all_numeric:
            columns = column_rows(raw, self.signature)
            if columns is not None:
                return columns
        return self.validate(raw)

    def join(self, parts: list[Rows]) -> pd.DataFrame:
        """One conformed frame of the validated parts, in order (what ``predict_frame`` takes)."""
        if all(isinstance(part, np.ndarray) for part in parts):
            matrix = parts[0] if len(parts) == 1 else np.concatenate(parts)  # type: ignore[arg-type]
            return matrix_frame(matrix, self.signature)  # type: ignore[arg-type]
        if all(isinstance(part, ColumnRows) for part in parts):
            return columns_frame(parts, self.signature)  # type: ignore[arg-type]
        frames = [part if isinstance(part, pd.DataFrame)
                  else columns_frame([part], self.signature) if isinstance(part, ColumnRows)
                  else matrix_frame(part, self.signature) for part in parts]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def predict_frame(self, frame: pd.DataFrame, *, proba: bool = True) -> Prediction:
        """Predict on a frame that ``validate`` returned (the micro-batcher concatenates those)."""
        try:
            features = self.preprocessor.apply(frame) if self.preprocessor else frame
            raw = self.flavor.run(self.model, features, self.meta, proba=proba)
            return self._postprocess(raw, len(frame))
        except ModelportError:
            raise
        except Exception as exc:
            error_id = uuid.uuid4().hex[:12]
            log.exception("model %s raised while predicting (error id %s)", self.name, error_id)
            raise PredictionError(f"model {self.name!r} raised {type(exc).__name__}: {exc}",
                                  error_id) from exc

    def predict_detailed(self, raw: Any, *, proba: bool = True) -> Prediction:
        frame, warnings = self.validate(raw)
        for warning in warnings:
            log.warning("model %s: %s", self.name, warning)
        result = self.predict_frame(frame, proba=proba)
        return Prediction(result.values, result.probabilities, result.labels, warnings)

    def predict(self, raw: Any) -> np.ndarray:
        """Labels for a classifier, numbers for a regressor."""
        return self.predict_detailed(raw, proba=False).values

    def predict_proba(self, raw: Any) -> np.ndarray:
        """(n, k) class probabilities, columns in ``labels`` order; classifiers only."""
        if self.task != "classification":
            raise TypeError(f"model {self.name!r} is a {self.task} model: it has no predict_proba")
        result = self.predict_detailed(raw, proba=True)
        if result.probabilities is None:
            raise TypeError(f"model {self.name!r} does not produce class probabilities")
        return result.probabilities

    def _postprocess(self, raw: RawOutputs, rows: int) -> Prediction:
        if self.task == "classification":
            return self._classify(raw)
        values = raw.values
        if values is None:
            raise ValueError("the model returned no values")
        values = np.asarray(values)
        if self.task == "regression":
            values = values.astype(float)
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
        if len(values) != rows:
            raise ValueError(f"the model returned {len(values)} outputs for {rows} rows")
        return Prediction(values)

    def _classify(self, raw: RawOutputs) -> Prediction:
        labels = self._label_list
        probabilities = raw.probabilities
        transform = str(self.meta.get("scores", ""))
        if probabilities is None and transform:
            probabilities = scores_to_probabilities(np.asarray(raw.values), transform)
        if probabilities is not None:
            probabilities = np.asarray(probabilities, dtype=float)
        if raw.values is not None and not transform:
            values = np.asarray(raw.values)
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            if self.meta.get(LABELS_NAME_INDICES):
                values = np.asarray(np.asarray(labels, dtype=object)[values.astype(int)].tolist())
        elif probabilities is not None:
            values = np.asarray(labels, dtype=object)[probabilities.argmax(axis=1)]
            values = np.asarray(values.tolist())
        else:
            raise ValueError("the classifier returned neither labels nor probabilities")
        return Prediction(values, probabilities, labels)
