"""scikit-learn estimators and Pipelines, saved with skops; pickles only when trusted."""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from modelport.artifact.flavors import sklearn_forests
from modelport.artifact.flavors.base import (
    RawOutputs,
    call_estimator,
    estimator_classes,
    require,
    type_module,
)
from modelport.errors import FlavorError, UnsafeArtifactError

SKOPS_FILE = "model.skops"
PICKLE_FILE = "model.joblib"
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
#: scikit-learn's array-API namespace for torch tensors; importing it imports torch
TORCH_NAMESPACE = "sklearn.externals.array_api_compat.torch"


def skops_io() -> ModuleType:
    """``skops.io``, imported without importing torch.

    On import, skops lists scikit-learn's estimators with ``sklearn.utils.all_estimators``, which
    walks every sklearn package, importing each to find its subpackages: sklearn's array-API
    namespace for torch among them, and torch with it (a second and a half of a batch worker's
    start), although the walk then leaves ``sklearn.externals`` out of the estimators it collects.
    While skops.io is first imported, an empty placeholder without subpackages stands in for that
    namespace, so the walk passes it by and the list is the same; the placeholder is removed at
    once, so sklearn imports the real namespace if a torch tensor ever asks for it.
    """
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    placeholder = ModuleType(TORCH_NAMESPACE)
    placed = sys.modules.setdefault(TORCH_NAMESPACE, placeholder) is placeholder
    try:
        return require("skops.io", "sklearn")
    finally:
        if placed and sys.modules.get(TORCH_NAMESPACE) is placeholder:
            del sys.modules[TORCH_NAMESPACE]


def untrusted_types(path: Path) -> list[str]:
    sio = skops_io()
    return sorted(sio.get_untrusted_types(file=path))


def dump_skops(obj: object, path: Path) -> None:
    """skops.io.dump, rewritten so that equal models give equal bytes.

    skops names array files and ``__id__`` fields after ``id()`` of the objects and stamps the zip
    with the current time; all three are replaced (numbered in order of first mention in
    schema.json, a fixed date) so that packing the same model twice yields the same artifact id.
    """
    sio = skops_io()
    sio.dump(obj, path)
    with zipfile.ZipFile(path) as source:
        contents = {info.filename: source.read(info) for info in source.infolist()}
    schema = contents.pop("schema.json").decode("utf-8")
    order = list(dict.fromkeys(re.findall(r'"([^"/]+\.npy)"', schema)))
    renamed = {old: f"array-{i:05d}.npy" for i, old in enumerate(order) if old in contents}
    schema = re.sub(r'"([^"/]+\.npy)"', lambda m: f'"{renamed.get(m.group(1), m.group(1))}"', schema)
    ids = {old: str(i) for i, old in enumerate(dict.fromkeys(re.findall(r'"__id__": (\d+)', schema)))}
    schema = re.sub(r'"__id__": (\d+)', lambda m: f'"__id__": {ids[m.group(1)]}', schema)
    entries = {renamed.get(name, name): data for name, data in contents.items()}
    entries["schema.json"] = schema.encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, entries[name])


def load_skops(path: Path, trusted: list[str]) -> object:
    """Load a skops file, refusing any type outside ``trusted``."""
    sio = skops_io()
    unknown = sorted(set(untrusted_types(path)) - set(trusted))
    if unknown:
        raise UnsafeArtifactError(f"{path.name} holds types nobody accepted at pack time: {unknown}")
    return sio.load(path, trusted=trusted)


def load_pickle(path: Path, *, trust_pickle: bool) -> object:
    if not trust_pickle:
        raise UnsafeArtifactError(
            f"{path.name} is a pickle, which runs code when loaded; pack it with --trust-pickle "
            "(trust_pickle=True) only if you trust where it came from")
    joblib = require("joblib", "sklearn")
    return joblib.load(path)


def _objects(value: Any, seen: set[int]) -> list[Any]:
    """The estimator and every object among its (deep) parameters."""
    if id(value) in seen:
        return []
    seen.add(id(value))
    found = [value]
    get_params = getattr(value, "get_params", None)
    if callable(get_params) and not isinstance(value, type):
        try:
            params = get_params(deep=True)
        except TypeError:
            params = {}
        for item in params.values():
            found += _objects(item, seen)
    elif isinstance(value, list | tuple):
        for item in value:
            found += _objects(item, seen)
    return found


def fitted_on_array(model: object) -> bool:
    """True when the first step that recorded its input was fitted without column names."""
    steps = [step for _, step in getattr(model, "steps", [])] or [model]
    for step in steps:
        if hasattr(step, "n_features_in_"):
            return not hasattr(step, "feature_names_in_")
    return False


class SklearnFlavor:
    name = "sklearn"
    frameworks: tuple[str, ...] = ("scikit-learn",)
    tolerance = 1e-7
    suffixes: tuple[str, ...] = (".skops", *PICKLE_SUFFIXES)

    def handles(self, model: object) -> bool:
        try:
            from sklearn.base import BaseEstimator
        except ImportError:
            return False
        return isinstance(model, BaseEstimator)

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        if path.suffix.lower() == ".skops":
            return load_skops(path, untrusted_types(path))
        return load_pickle(path, trust_pickle=trust_pickle)

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        shape = {"input": "array" if fitted_on_array(model) else "frame"}
        if source is not None and source.suffix.lower() in PICKLE_SUFFIXES:
            shutil.copyfile(source, directory / PICKLE_FILE)
            return {"file": PICKLE_FILE, "serialization": "pickle", **shape}
        target = directory / SKOPS_FILE
        try:
            dump_skops(model, target)
        except (TypeError, ValueError, NotImplementedError) as exc:
            raise FlavorError(f"skops cannot serialize this model ({exc}); pack it from a "
                              "joblib/pickle file with --trust-pickle instead") from exc
        return {"file": SKOPS_FILE, "serialization": "skops",
                "trusted_types": untrusted_types(target), **shape}

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        path = directory / str(meta["file"])
        if meta.get("serialization") == "pickle":
            model = load_pickle(path, trust_pickle=trust_pickle)
        else:
            model = load_skops(path, list(meta.get("trusted_types", [])))
        sklearn_forests.accelerate(model)
        return model

    def run(self, model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        if meta.get("input") == "array" and hasattr(features, "to_numpy"):
            features = features.to_numpy()  # fitted on an array: names would only draw a warning
        return call_estimator(sklearn_forests.accelerated(model) or model, features, meta, proba=proba)

    def classes(self, model: object) -> list[Any] | None:
        return estimator_classes(model)

    def modules(self, model: object) -> set[str]:
        found = {"sklearn"}
        for obj in _objects(model, set()):
            if callable(obj) and hasattr(obj, "__module__") and isinstance(obj.__module__, str):
                found.add(obj.__module__.split(".")[0])
            found.add(type_module(obj))
        return found - {"builtins"}

    def importances(self, model: Any) -> dict[str, float] | None:
        """``feature_importances_`` or mean |coef_| of the final estimator, by its feature names."""
        steps = getattr(model, "steps", None)
        final = steps[-1][1] if steps else model
        values = getattr(final, "feature_importances_", None)
        if values is None:
            coef = getattr(final, "coef_", None)
            if coef is None:
                return None
            values = np.abs(np.asarray(coef, dtype=float)).reshape(-1, np.shape(coef)[-1]).mean(axis=0)
        values = np.asarray(values, dtype=float).ravel()
        names = getattr(final, "feature_names_in_", None)
        if names is None and steps and len(steps) > 1:
            try:
                names = model[:-1].get_feature_names_out()
            except (AttributeError, ValueError, TypeError):
                names = None
        if names is None or len(names) != len(values):
            names = [f"f{i}" for i in range(len(values))]
        return {str(n): float(v) for n, v in zip(names, values, strict=True)}
