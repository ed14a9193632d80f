"""modelport: pack, register, serve, batch-score, export and monitor machine-learning models."""

from __future__ import annotations

from modelport.core.schema import ColumnKind, ColumnSpec, Signature
from modelport.errors import (
    EnvironmentMismatchError,
    GoldenCheckError,
    IntegrityError,
    ModelportError,
    SchemaError,
)
from modelport.inference.load import load, verify
from modelport.inference.model import LoadedModel, Prediction
from modelport.inference.pack import Artifact, pack

__all__ = [
    "Artifact",
    "ColumnKind",
    "ColumnSpec",
    "EnvironmentMismatchError",
    "GoldenCheckError",
    "IntegrityError",
    "LoadedModel",
    "ModelportError",
    "Prediction",
    "SchemaError",
    "Signature",
    "load",
    "pack",
    "verify",
]
