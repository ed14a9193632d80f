"""Flavor plugins, tried in order: specific frameworks first, generic sklearn and pyfunc last."""

from __future__ import annotations

from pathlib import Path

from modelport.artifact.flavors.base import Flavor, PreparesModel, RawOutputs
from modelport.artifact.flavors.keras import KerasFlavor
from modelport.artifact.flavors.lightgbm import LightGBMFlavor
from modelport.artifact.flavors.onnx import OnnxFlavor
from modelport.artifact.flavors.pyfunc import PyfuncFlavor
from modelport.artifact.flavors.sklearn import SklearnFlavor
from modelport.artifact.flavors.torch import TorchFlavor
from modelport.artifact.flavors.xgboost import XGBoostFlavor
from modelport.core.plugins import PluginRegistry
from modelport.errors import FlavorError

FLAVORS: PluginRegistry[Flavor] = PluginRegistry("flavor")
FLAVORS.register("sklearn", SklearnFlavor())
FLAVORS.register("onnx", OnnxFlavor())
FLAVORS.register("keras", KerasFlavor())
FLAVORS.register("torch", TorchFlavor())
FLAVORS.register("xgboost", XGBoostFlavor())
FLAVORS.register("lightgbm", LightGBMFlavor())
FLAVORS.register("pyfunc", PyfuncFlavor())


def get_flavor(name: str) -> Flavor:
    try:
        return FLAVORS.get(name)
    except KeyError as exc:
        raise FlavorError(str(exc.args[0])) from None


def flavor_for_model(model: object) -> Flavor:
    """The first flavor (in detection order) that handles an in-memory model."""
    for flavor in sorted(FLAVORS, key=_order):
        if flavor.handles(model):
            return flavor
    raise FlavorError(f"no flavor handles a {type(model).__module__}.{type(model).__name__}; "
                      f"known flavors: {', '.join(FLAVORS.names())}")


def flavor_for_file(path: Path) -> Flavor:
    """The first flavor that recognises a model file."""
    if not path.exists():
        raise FlavorError(f"model file {path} does not exist")
    for flavor in sorted(FLAVORS, key=_order):
        if flavor.detect(path):
            return flavor
    raise FlavorError(f"cannot tell the flavor of {path.name}; pass --flavor "
                      f"({', '.join(FLAVORS.names())})")


#: detection order: wrappers that subclass sklearn's BaseEstimator must be seen before sklearn.
_ORDER = ("xgboost", "lightgbm", "keras", "torch", "onnx", "sklearn", "pyfunc")


def _order(flavor: Flavor) -> int:
    return _ORDER.index(flavor.name) if flavor.name in _ORDER else len(_ORDER)


__all__ = [
    "FLAVORS",
    "Flavor",
    "PreparesModel",
    "RawOutputs",
    "flavor_for_file",
    "flavor_for_model",
    "get_flavor",
]
