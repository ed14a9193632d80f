"""The flavor protocol: how one framework's model is saved, loaded and called."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from modelport.errors import MissingDependencyError


@dataclass(frozen=True)
class RawOutputs:
    """What a model call returned before postprocessing.

    ``values`` are direct predictions (class labels of a classifier, numbers of a regressor, raw
    network outputs); ``probabilities`` is an (n, k) matrix of class probabilities when known.
    """

    values: np.ndarray | None
    probabilities: np.ndarray | None = None


class Flavor(Protocol):
    """One framework. Methods take the flavor's ``meta`` (what ``save`` returned) when they need it."""

    #: stable name stored in manifests
    name: str
    #: distributions whose installed version must equal the packed one
    frameworks: tuple[str, ...]
    #: largest absolute difference the golden check accepts for this framework
    tolerance: float
    #: model file suffixes ``pack MODEL_FILE`` recognises (detect() decides)
    suffixes: tuple[str, ...]

    def handles(self, model: object) -> bool:
        """True when ``model`` (an in-memory object) belongs to this flavor."""
        ...

    def detect(self, path: Path) -> bool:
        """True when the file at ``path`` is a model of this flavor."""
        ...

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        """Load a user's model file so it can be packed."""
        ...

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        """Write the model under ``directory`` (copying ``source`` when given); return meta."""
        ...

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        """Deserialize the model written by ``save``; digests are verified before this runs."""
        ...

    def run(self, model: object, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        """Call the model on preprocessed features."""
        ...

    def classes(self, model: object) -> list[Any] | None:
        """Class labels the model itself knows, if it is a classifier that says so."""
        ...

    def modules(self, model: object) -> set[str]:
        """Top-level modules the model's code lives in (for the dependency lock)."""
        ...


@runtime_checkable
class PreparesModel(Protocol):
    """A flavor that must turn the user's model into the form it saves before packing.

    ``pack`` calls ``prepare`` once, with preprocessed features of the sample's first rows, and
    uses what it returns from then on (golden rows, reference sample, ``save``), so the artifact
    holds exactly the model that produced its golden outputs.
    """

    def prepare(self, model: object, example: Any) -> object:
        """The model in its saveable form (e.g. a traced network), checked against ``model``."""
        ...


#: flavor_meta key: pack verified on the whole sample that ``predict`` equals ``classes_`` at the
#: argmax of ``predict_proba``, so a call that wants probabilities makes one model pass, not two.
LABELS_FROM_PROBABILITIES = "labels_from_probabilities"


def call_estimator(model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
    """The scikit-learn calling convention: ``predict``, and ``predict_proba`` when asked and present."""
    has_proba = proba and callable(getattr(model, "predict_proba", None))
    if has_proba and meta.get(LABELS_FROM_PROBABILITIES):
        probabilities = np.asarray(model.predict_proba(features), dtype=float)
        return RawOutputs(np.asarray(model.classes_)[probabilities.argmax(axis=1)], probabilities)
    values = np.asarray(model.predict(features))
    if not has_proba:
        return RawOutputs(values)
    return RawOutputs(values, np.asarray(model.predict_proba(features), dtype=float))


def estimator_classes(model: object) -> list[Any] | None:
    """``classes_`` as plain Python values, for models that follow scikit-learn's convention."""
    classes = getattr(model, "classes_", None)
    return None if classes is None else np.asarray(classes).tolist()


def require(module: str, extra: str) -> ModuleType:
    """Import an optional framework or raise MissingDependencyError naming the pip extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module, extra) from exc


def type_module(model: object) -> str:
    """The top-level module that defines ``type(model)``, without importing anything."""
    return type(model).__module__.split(".")[0]


def as_float32(features: Any) -> np.ndarray:
    """Features as a dense float32 matrix, as network flavors expect."""
    values = features.to_numpy() if hasattr(features, "to_numpy") else features
    return np.ascontiguousarray(np.asarray(values, dtype=np.float32))


@runtime_checkable
class ExposesImportances(Protocol):
    """A flavor whose models report their own feature importances (trees, linear models, boosters)."""

    def importances(self, model: object) -> dict[str, float] | None:
        """Importance per feature name the model knows, or None when it reports none."""
        ...


@runtime_checkable
class PlacesOnDevice(Protocol):
    """A flavor whose models can run on an accelerator (``cuda``, ``cuda:1``) as well as the CPU."""

    def place(self, model: object, device: str) -> tuple[object, str]:
        """Move ``model`` to ``device`` (``auto`` picks an accelerator when one is present).

        Returns the placed model and the device it ended on; raises FlavorError when the asked-for
        device does not exist here.
        """
        ...
