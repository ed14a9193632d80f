"""modelport: pack, register, serve, batch-score, export and monitor machine-learning models."""

from __future__ import annotations

from pathlib import Path

from modelport.core.schema import ColumnKind, ColumnSpec, Signature
from modelport.errors import (
    EnvironmentMismatchError,
    GoldenCheckError,
    IntegrityError,
    ModelportError,
    SchemaError,
)
from modelport.inference import load as _load
from modelport.inference.load import verify
from modelport.inference.model import LoadedModel, Prediction
from modelport.inference.pack import Artifact, pack
from modelport.registry.records import ModelVersion, Resolved
from modelport.registry.service import Registry
from modelport.settings import Settings


def registry(settings: Settings | None = None) -> Registry:
    """The registry the environment configures (MODELPORT_HOME, MODELPORT_REGISTRY_URL).

    Opening is lazy: the database is reached (and migrated) on first use.
    """
    return Registry((settings or Settings.from_env()).registry_config())


def load(ref: str | Path, *, allow_env_mismatch: bool = False, golden_check: bool = True,
         using: Registry | None = None) -> LoadedModel:
    """Verify, deserialize and golden-check the artifact a ref names.

    ``ref`` is a path to an artifact folder or ``.tar``, or a registered ``name:3``,
    ``name@production``, bare ``name`` or digest (looked up in ``registry``, by default the one
    the environment configures). Archived versions are not loaded.
    """
    if isinstance(ref, Path):
        path = ref
    else:
        opened = using or registry()
        try:
            path = opened.resolve(ref).path
        finally:
            if using is None:
                opened.close()
    return _load.load(path, allow_env_mismatch=allow_env_mismatch, golden_check=golden_check)


__all__ = [
    "Artifact",
    "ColumnKind",
    "ColumnSpec",
    "EnvironmentMismatchError",
    "GoldenCheckError",
    "IntegrityError",
    "LoadedModel",
    "ModelVersion",
    "ModelportError",
    "Prediction",
    "Registry",
    "Resolved",
    "SchemaError",
    "Settings",
    "Signature",
    "load",
    "pack",
    "registry",
    "verify",
]
