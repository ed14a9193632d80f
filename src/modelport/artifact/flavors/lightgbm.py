"""LightGBM boosters and sklearn wrappers, saved in LightGBM's native text format (never pickle)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from modelport.artifact.flavors.base import RawOutputs, require
from modelport.errors import FlavorError

MODEL_FILE = "model.txt"
WRAPPERS = ("LGBMClassifier", "LGBMRegressor", "LGBMRanker")
#: canonical objective names (as the model file writes them) whose outputs are probabilities
MULTICLASS = ("multiclass", "multiclassova")


def _lgb() -> Any:
    return require("lightgbm", "lightgbm")


def from_lightgbm(model: object) -> bool:
    """True when ``type(model)`` or a base class is defined in lightgbm (imports nothing)."""
    return any(cls.__module__.split(".")[0] == "lightgbm" for cls in type(model).__mro__)


def booster_of(model: Any) -> Any:
    return model if isinstance(model, _lgb().Booster) else model.booster_


def wrapper_name(model: object) -> str:
    """The lightgbm sklearn wrapper ``model`` is (or subclasses), or ``Booster``."""
    for cls in type(model).__mro__:
        if cls.__module__.split(".")[0] == "lightgbm" and cls.__name__ in WRAPPERS:
            return cls.__name__
    return "Booster"


def model_objective(booster: Any) -> str:
    """The canonical objective from the model header (parameters may hold an alias)."""
    for line in booster.model_to_string(num_iteration=1).splitlines():
        if line.startswith("objective="):
            return str(line.removeprefix("objective=").split(" ")[0])
        if line == "":  # the header ends at the first blank line
            break
    return "custom"


def objective(booster: Any, meta: Mapping[str, Any]) -> str:
    """The objective recorded at pack time, or read from the live booster."""
    return str(meta["objective"]) if "objective" in meta else model_objective(booster)


def _first_line(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.readline(64).rstrip(b"\r\n")


class LightGBMFlavor:
    name = "lightgbm"
    frameworks: tuple[str, ...] = ("lightgbm",)
    tolerance = 1e-6
    suffixes: tuple[str, ...] = (".txt",)

    def handles(self, model: object) -> bool:
        if not from_lightgbm(model):
            return False
        lgb = _lgb()
        return isinstance(model, lgb.Booster | lgb.LGBMModel)

    def detect(self, path: Path) -> bool:
        return (path.suffix.lower() in self.suffixes and path.is_file()
                and _first_line(path) == b"tree")

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        lgb = _lgb()
        try:
            return lgb.Booster(model_file=str(path))
        except lgb.basic.LightGBMError as exc:
            raise FlavorError(f"lightgbm cannot read {path.name}: {exc}") from exc

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        # always re-saved from the booster: the wrappers have no native format of their own
        booster = booster_of(model)
        booster.save_model(str(directory / MODEL_FILE))
        return {
            "file": MODEL_FILE,
            "serialization": "lightgbm-text",
            "wrapper": wrapper_name(model),
            "objective": model_objective(booster),
            "num_class": int(booster.num_model_per_iteration()),
            "categorical": bool(booster.pandas_categorical),
            "feature_names": list(booster.feature_name()),
        }

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        # a Booster whatever the wrapper was: run() calls the booster for both, so they agree
        return _lgb().Booster(model_file=str(directory / str(meta["file"])))

    def run(self, model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        booster = booster_of(model)
        out = np.asarray(booster.predict(features), dtype=float)
        goal = objective(booster, meta)
        # labels come from the probabilities (argmax), exactly as LGBMClassifier.predict does
        if goal == "binary":
            return RawOutputs(None, np.column_stack([1.0 - out, out]))
        if goal in MULTICLASS:
            return RawOutputs(None, out)
        return RawOutputs(out)

    def classes(self, model: object) -> list[Any] | None:
        if wrapper_name(model) != "Booster":
            classes = getattr(model, "classes_", None)
            return None if classes is None else np.asarray(classes).tolist()
        goal = model_objective(model)
        if goal == "binary":
            return [0, 1]
        if goal in MULTICLASS:
            return list(range(int(booster_of(model).num_model_per_iteration())))
        return None

    def modules(self, model: object) -> set[str]:
        return {"lightgbm"} if wrapper_name(model) == "Booster" else {"lightgbm", "sklearn"}

    def importances(self, model: object) -> dict[str, float] | None:
        """Each feature's share of the total split gain, keyed by the model's feature names."""
        booster = booster_of(model)
        gains = np.asarray(booster.feature_importance(importance_type="gain"), dtype=float)
        total = float(gains.sum())
        if total <= 0:
            return None
        names = booster.feature_name()
        return {str(n): float(g) / total for n, g in zip(names, gains, strict=True)}
