"""XGBoost boosters and sklearn wrappers, saved in XGBoost's native JSON format (never pickle)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from modelport.artifact.flavors.base import RawOutputs, require
from modelport.errors import ArtifactFormatError, FlavorError

MODEL_FILE = "model.json"
#: the CPU-only wheel and the full one both provide ``import xgboost``
DISTRIBUTIONS = ("xgboost-cpu", "xgboost")
#: sklearn wrapper classes a packed model is loaded back into (anything else loads as a Booster)
WRAPPERS = ("XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor", "XGBRanker")
#: objectives whose output is a probability: binary gives P(class 1), softprob an (n, k) matrix
PROBABILITY_OBJECTIVES = ("binary:logistic", "multi:softprob")
#: classifier objectives that output class indices and no probabilities
INDEX_OBJECTIVES = ("binary:hinge", "multi:softmax")
log = logging.getLogger("modelport.artifact")
_JSON_MODEL = re.compile(rb'\A\s*\{\s*"learner"\s*:')


@cache
def distribution() -> str:
    """The installed distribution that provides ``import xgboost`` (the lock records this one)."""
    for name in DISTRIBUTIONS:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        return name
    return DISTRIBUTIONS[0]


def _xgb() -> Any:
    return require("xgboost", "xgboost")


def from_xgboost(model: object) -> bool:
    """True when ``type(model)`` or a base class is defined in xgboost (imports nothing)."""
    return any(cls.__module__.split(".")[0] == "xgboost" for cls in type(model).__mro__)


def booster_of(model: Any) -> Any:
    return model if isinstance(model, _xgb().Booster) else model.get_booster()


def wrapper_name(model: object) -> str:
    """The xgboost sklearn wrapper ``model`` is (or subclasses), or ``Booster``."""
    for cls in type(model).__mro__:
        if cls.__module__.split(".")[0] == "xgboost" and cls.__name__ in WRAPPERS:
            return cls.__name__
    return "Booster"


def learner(model: Any) -> dict[str, Any]:
    """The learner section of the booster's configuration (objective, model parameters)."""
    config: dict[str, Any] = json.loads(booster_of(model).save_config())["learner"]
    return config


def objective(model: Any, meta: Mapping[str, Any]) -> str:
    """The training objective: recorded at pack time, or read from the live booster."""
    if "objective" in meta:
        return str(meta["objective"])
    return str(learner(model)["objective"]["name"])


def _features(booster: Any, features: Any) -> Any:
    if hasattr(features, "columns") and booster.feature_names is None:
        return features.to_numpy()  # fitted on an array: a frame's names would not match
    return features


def _booster_outputs(booster: Any, features: Any, goal: str) -> RawOutputs:
    """What ``Booster.predict`` means for each objective, as the sklearn wrapper reads it."""
    out = np.asarray(booster.inplace_predict(features))
    if goal == "binary:logistic":
        return RawOutputs(None, np.column_stack([1 - out, out]).astype(float))
    if goal == "multi:softprob":
        return RawOutputs(None, out.astype(float))
    if goal in INDEX_OBJECTIVES:
        return RawOutputs(out.astype(int))
    return RawOutputs(out)


def _head(path: Path, size: int = 256) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


class XGBoostFlavor:
    name = "xgboost"
    tolerance = 1e-6
    suffixes: tuple[str, ...] = (".json", ".ubj")

    def __init__(self) -> None:
        self._frameworks: tuple[str, ...] = ()

    @property
    def frameworks(self) -> tuple[str, ...]:
        """The installed xgboost distribution, looked up on first use rather than on import."""
        return self._frameworks or (distribution(),)

    @frameworks.setter
    def frameworks(self, value: tuple[str, ...]) -> None:
        self._frameworks = value

    def handles(self, model: object) -> bool:
        if not from_xgboost(model):
            return False
        xgb = _xgb()
        return isinstance(model, xgb.Booster | xgb.XGBModel)

    def detect(self, path: Path) -> bool:
        suffix = path.suffix.lower()
        if suffix not in self.suffixes or not path.is_file():
            return False
        head = _head(path)
        if suffix == ".json":
            return _JSON_MODEL.match(head) is not None
        return head.startswith(b"{") and b"learner" in head[:32]  # UBJSON: first key is learner

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        xgb = _xgb()
        try:
            booster = xgb.Booster(model_file=str(path))
        except xgb.core.XGBoostError as exc:
            raise FlavorError(f"xgboost cannot read {path.name}: {exc}") from exc
        best, rounds = booster.attr("best_iteration"), booster.num_boosted_rounds()
        if best is not None and int(best) + 1 < rounds:
            log.warning("%s holds %d rounds but early stopping chose %d; a Booster predicts "
                        "with all of them (pack the fitted wrapper to keep the best)",
                        path.name, rounds, int(best) + 1)
        return booster

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        # always re-saved, never copied: one format (JSON) whatever the user's file was
        booster = booster_of(model)
        model.save_model(str(directory / MODEL_FILE))  # type: ignore[attr-defined]
        config = learner(model)
        meta: dict[str, Any] = {
            "file": MODEL_FILE,
            "serialization": "xgboost-json",
            "wrapper": wrapper_name(model),
            "objective": str(config["objective"]["name"]),
            "num_class": int(config["learner_model_param"].get("num_class", 0)),
            "categorical": "c" in (booster.feature_types or []),
            "feature_names": booster.feature_names,
        }
        best = booster.attr("best_iteration")
        if best is not None:
            meta["best_iteration"] = int(best)
        return meta

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        xgb = _xgb()
        path = str(directory / str(meta["file"]))
        wrapper = str(meta.get("wrapper", "Booster"))
        if wrapper == "Booster":
            return xgb.Booster(model_file=path)
        if wrapper not in WRAPPERS:
            raise ArtifactFormatError(f"unknown xgboost wrapper {wrapper!r} in the manifest")
        model = getattr(xgb, wrapper)()
        model.load_model(path)  # restores classes, best iteration and categories
        return model

    def run(self, model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        booster = booster_of(model)
        features = _features(booster, features)
        goal = objective(model, meta)
        if model is booster:
            return _booster_outputs(booster, features, goal)
        if hasattr(model, "predict_proba") and goal not in INDEX_OBJECTIVES:
            # labels come from the probabilities (argmax), exactly as XGBClassifier.predict does
            return RawOutputs(None, np.asarray(model.predict_proba(features), dtype=float))
        return RawOutputs(np.asarray(model.predict(features)))

    def classes(self, model: object) -> list[Any] | None:
        if wrapper_name(model) != "Booster":
            classes = getattr(model, "classes_", None)
            return None if classes is None else np.asarray(classes).tolist()
        config = learner(model)
        goal = str(config["objective"]["name"])
        if goal.startswith("multi:"):
            return list(range(int(config["learner_model_param"]["num_class"])))
        if goal in ("binary:logistic", "binary:hinge"):
            return [0, 1]
        return None

    def modules(self, model: object) -> set[str]:
        return {"xgboost"} if wrapper_name(model) == "Booster" else {"xgboost", "sklearn"}

    def importances(self, model: object) -> dict[str, float] | None:
        """Each feature's share of the total split gain (trees only), keyed by the model's names."""
        booster = booster_of(model)
        if learner(model)["gradient_booster"]["name"] == "gblinear":
            return None
        gains = booster.get_score(importance_type="total_gain")
        names = booster.feature_names or [f"f{i}" for i in range(booster.num_features())]
        total = float(sum(np.sum(v) for v in gains.values()))
        if total <= 0:
            return None
        return {str(n): float(np.sum(gains.get(n, 0.0))) / total for n in names}
