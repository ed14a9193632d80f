"""Keras 3 models on the torch backend (never TensorFlow), stored as .keras or legacy HDF5 .h5."""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from modelport.artifact.flavors.base import RawOutputs, as_float32, require, type_module
from modelport.errors import FlavorError

KERAS_FILE = "model.keras"
H5_FILE = "model.h5"
H5_SUFFIXES = (".h5", ".hdf5")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def import_keras() -> ModuleType:
    """Keras on the torch backend; the backend is fixed when keras is first imported."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = require("keras", "keras")
    backend = keras.backend.backend()
    if backend != "torch":
        raise FlavorError(f"keras runs on the {backend!r} backend in this process; modelport runs "
                          "Keras on torch: set KERAS_BACKEND=torch before keras is imported")
    return keras


def _is_keras_zip(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return "config.json" in archive.namelist()


def _is_model_h5(path: Path) -> bool:
    """An HDF5 file holding a whole model (weights-only files lack ``model_config``)."""
    with path.open("rb") as handle:
        if handle.read(len(_HDF5_SIGNATURE)) != _HDF5_SIGNATURE:
            return False
    h5py = require("h5py", "keras")
    with h5py.File(path, "r") as handle:
        return "model_config" in handle.attrs


def _load(path: Path) -> object:
    """Load a .keras file (safe mode: no arbitrary code) or a legacy .h5 file, uncompiled."""
    keras = import_keras()
    try:
        return keras.saving.load_model(path, compile=False)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        raise FlavorError(f"keras cannot load {path.name}: {exc}") from exc


class KerasFlavor:
    name = "keras"
    frameworks: tuple[str, ...] = ("keras", "torch")
    tolerance = 1e-5
    suffixes: tuple[str, ...] = (".keras", *H5_SUFFIXES)

    def handles(self, model: object) -> bool:
        keras = sys.modules.get("keras")  # a keras model exists only once keras was imported
        return keras is not None and isinstance(model, keras.Model)

    def detect(self, path: Path) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".keras":
            return _is_keras_zip(path)
        return suffix in H5_SUFFIXES and _is_model_h5(path)

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        return _load(path)

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        suffix = source.suffix.lower() if source is not None else ""
        if source is not None and suffix in self.suffixes:
            legacy = suffix in H5_SUFFIXES
            name = H5_FILE if legacy else KERAS_FILE
            shutil.copyfile(source, directory / name)
            return {"file": name, "format": "h5" if legacy else "keras"}
        import_keras()
        model.save(directory / KERAS_FILE)  # type: ignore[attr-defined]
        return {"file": KERAS_FILE, "format": "keras"}

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        return _load(directory / str(meta["file"]))

    def run(self, model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        keras = import_keras()
        torch = require("torch", "keras")
        with torch.no_grad():
            outputs = model(as_float32(features), training=False)
        if isinstance(outputs, list | tuple):
            outputs = outputs[0]
        return RawOutputs(np.asarray(keras.ops.convert_to_numpy(outputs)))

    def classes(self, model: object) -> list[Any] | None:
        return None

    def modules(self, model: object) -> set[str]:
        return {"keras", "torch", type_module(model)}
