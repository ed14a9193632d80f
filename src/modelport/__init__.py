"""modelport: pack, register, serve, batch-score, export and monitor machine-learning models."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from modelport.errors import (
    EnvironmentMismatchError,
    GoldenCheckError,
    IntegrityError,
    ModelportError,
    SchemaError,
)

if TYPE_CHECKING:
    from modelport.core.schema import ColumnKind, ColumnSpec, Signature
    from modelport.inference.load import verify
    from modelport.inference.model import LoadedModel, Prediction
    from modelport.inference.pack import Artifact, pack
    from modelport.registry.records import ModelVersion, Resolved
    from modelport.registry.service import Registry
    from modelport.settings import Settings

#: where each public name lives; imported when first asked for, so that ``import modelport`` (and
#: the command line, which starts with it) loads neither pandas nor pyarrow before it must: the
#: command line chooses Arrow's allocator first (``modelport.cli``)
_LAZY = {
    "ColumnKind": "modelport.core.schema", "ColumnSpec": "modelport.core.schema",
    "Signature": "modelport.core.schema", "verify": "modelport.inference.load",
    "LoadedModel": "modelport.inference.model", "Prediction": "modelport.inference.model",
    "Artifact": "modelport.inference.pack", "pack": "modelport.inference.pack",
    "ModelVersion": "modelport.registry.records", "Resolved": "modelport.registry.records",
    "Registry": "modelport.registry.service", "Settings": "modelport.settings",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def open_registry(settings: Settings | None = None) -> Registry:
    """The registry the environment configures (MODELPORT_HOME, MODELPORT_REGISTRY_URL).

    Opening is lazy: the database is reached (and migrated) on first use.
    """
    from modelport.registry.service import Registry
    from modelport.settings import Settings

    return Registry((settings or Settings.from_env()).registry_config())


def load(ref: str | Path, *, allow_env_mismatch: bool = False, golden_check: bool = True,
         device: str = "cpu", using: Registry | None = None) -> LoadedModel:
    """Verify, deserialize, place on ``device`` and golden-check the artifact a ref names.

    ``ref`` is a path to an artifact folder or ``.tar``, or a registered ``name:3``,
    ``name@production``, bare ``name`` or digest, looked up in the registry ``using`` (by default
    the one the environment configures). Archived versions are not loaded.
    """
    if isinstance(ref, Path):
        path = ref
    else:
        opened = using or open_registry()
        try:
            path = opened.resolve(ref).path
        finally:
            if using is None:
                opened.close()
    from modelport.inference import load as loading

    return loading.load(path, allow_env_mismatch=allow_env_mismatch, golden_check=golden_check,
                        device=device)


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
    "open_registry",
    "pack",
    "verify",
]
