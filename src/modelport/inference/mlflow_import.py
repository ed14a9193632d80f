"""Turn an MLflow model folder (sklearn flavor) into a verified modelport artifact.

MLflow writes ``MLmodel`` (YAML: ``flavors.sklearn`` with ``pickled_model``,
``serialization_format`` of ``cloudpickle``, ``pickle`` or ``skops`` and ``sklearn_version``;
``flavors.python_function``; ``signature`` whose ``inputs`` is a JSON string of column or tensor
specs; ``saved_input_example_info``), the model file, ``requirements.txt``, ``conda.yaml``,
``python_env.yaml`` and, when logged with one, ``input_example.json``. The model is packed like
any other: its signature comes from a sample (the input example or one the caller gives), cast to
the types MLflow's signature declares, and its golden rows are checked before anything is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelport.artifact.flavors.sklearn import load_pickle, load_skops, untrusted_types
from modelport.errors import (
    ArtifactFormatError,
    EnvironmentMismatchError,
    FlavorError,
    Problem,
    SchemaError,
    UnsafeArtifactError,
)
from modelport.inference.pack import Artifact, pack

MLMODEL = "MLmodel"
PICKLE_FORMATS = ("cloudpickle", "pickle")
#: MLflow column types → the numpy/pandas dtype the sample is cast to
COLUMN_DTYPES: dict[str, np.dtype[Any]] = {
    name: np.dtype(dtype) for name, dtype in (
        ("double", "float64"), ("float", "float32"), ("long", "int64"), ("integer", "int32"),
        ("boolean", "bool"), ("string", "object"), ("datetime", "datetime64[ns]"))}


@dataclass(frozen=True)
class MlflowModel:
    """What modelport reads from an MLflow model folder."""

    root: Path
    sklearn: dict[str, Any]
    signature_inputs: list[dict[str, Any]] | None
    example_info: dict[str, Any] | None
    info: dict[str, Any]

    @property
    def model_file(self) -> Path:
        return self.root / str(self.sklearn.get("pickled_model", ""))

    @property
    def serialization(self) -> str:
        return str(self.sklearn.get("serialization_format", "cloudpickle"))

    @property
    def tensor_input(self) -> bool:
        specs = self.signature_inputs or [{}]
        return specs[0].get("type") == "tensor"


def read_mlmodel(root: Path) -> MlflowModel:
    """Parse ``root/MLmodel``; refuse folders that are not MLflow sklearn models."""
    import yaml  # only MLflow imports need it; the CLI and the server start without it

    path = root / MLMODEL
    if not path.is_file():
        raise ArtifactFormatError(f"{root} is not an MLflow model folder: it has no {MLMODEL} file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ArtifactFormatError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
        raise ArtifactFormatError(f"{path} has no flavors section")
    sklearn = data["flavors"].get("sklearn")
    if not isinstance(sklearn, dict):
        raise FlavorError(f"{root} holds no sklearn flavor (it has {sorted(data['flavors'])}); "
                          "modelport imports MLflow models saved with mlflow.sklearn")
    inputs = None
    signature = data.get("signature") or {}
    if signature.get("inputs"):
        try:
            inputs = json.loads(signature["inputs"])
        except (TypeError, ValueError) as exc:
            raise ArtifactFormatError(f"{path}: signature.inputs is not a JSON list: {exc}") from exc
    info = {k: data[k] for k in ("mlflow_version", "model_uuid", "run_id", "utc_time_created")
            if data.get(k)}
    return MlflowModel(root, sklearn, inputs, data.get("saved_input_example_info"), info)


def _check_environment(model: MlflowModel) -> list[str]:
    packed = model.sklearn.get("sklearn_version")
    here = metadata.version("scikit-learn")
    if packed and str(packed) != here:
        return [f"scikit-learn=={packed} in the MLflow model, {here} here"]
    return []


def _load(model: MlflowModel, trust_pickle: bool) -> object:
    path = model.model_file
    if not path.is_file():
        raise ArtifactFormatError(f"the MLflow model file {path} is missing")
    if model.serialization == "skops":
        trusted = list(model.sklearn.get("skops_trusted_types") or [])
        unknown = sorted(set(untrusted_types(path)) - set(trusted))
        if unknown and not trust_pickle:
            raise UnsafeArtifactError(f"{path.name} holds types nobody trusted: {unknown}; pass "
                                      "--trust-pickle (trust_pickle=True) to accept them")
        return load_skops(path, trusted + unknown)
    if model.serialization in PICKLE_FORMATS:
        if not trust_pickle:
            raise UnsafeArtifactError(
                f"the MLflow model {path.name} is a {model.serialization} file, which runs code "
                "when loaded; pass --trust-pickle (trust_pickle=True) only if you trust its source")
        return load_pickle(path, trust_pickle=True)
    raise FlavorError(f"unknown MLflow sklearn serialization_format {model.serialization!r}")


def read_input_example(model: MlflowModel) -> Any | None:
    """The logged input example as a DataFrame or array, or None when none was logged."""
    info = model.example_info
    if not info:
        return None
    path = model.root / str(info.get("artifact_path", "input_example.json"))
    if not path.is_file():
        raise ArtifactFormatError(f"the MLflow input example {path} is missing")
    data = json.loads(path.read_text())
    kind = info.get("type")
    if kind == "dataframe":
        if isinstance(data, dict) and "columns" in data:
            return pd.DataFrame(data["data"], columns=data["columns"])
        return pd.DataFrame(data)
    if kind == "ndarray":
        return np.asarray(data["inputs"] if isinstance(data, dict) else data)
    raise ArtifactFormatError(f"the MLflow input example has type {kind!r}; pass --sample instead")


def _cast(sample: Any, model: MlflowModel) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The sample in the signature's column order and types, and the nullable overrides."""
    specs = model.signature_inputs
    if not specs:
        return sample, {}
    if model.tensor_input:
        dtype = specs[0].get("tensor-spec", {}).get("dtype", "float64")
        return np.asarray(sample, dtype=dtype), {}
    frame = sample if isinstance(sample, pd.DataFrame) else pd.DataFrame(sample)
    names = [str(s.get("name")) for s in specs]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise SchemaError([Problem(n, "is in the MLflow signature but not in the sample")
                           for n in missing])
    problems, columns = [], {}
    for spec, name in zip(specs, names, strict=True):
        dtype = COLUMN_DTYPES.get(str(spec.get("type")))
        if dtype is None:
            problems.append(Problem(name, f"MLflow type {spec.get('type')!r} is not supported"))
            continue
        try:
            columns[name] = frame[name].astype(dtype)
        except (TypeError, ValueError) as exc:
            problems.append(Problem(name, f"cannot be read as MLflow type {spec['type']}: {exc}"))
    if problems:
        raise SchemaError(problems)
    optional = {n: {"nullable": True} for s, n in zip(specs, names, strict=True)
                if s.get("required") is False}
    return pd.DataFrame(columns), optional


def import_mlflow(root: Path, *, name: str, out: Path, sample: Any = None,
                  trust_pickle: bool = False, allow_env_mismatch: bool = False,
                  overwrite: bool = False) -> Artifact:
    """Pack the MLflow sklearn model at ``root`` into a verified artifact at ``out``.

    The sample comes from ``sample`` or else the logged input example; one of them must exist.
    """
    model = read_mlmodel(root)
    differences = _check_environment(model)
    if differences and not allow_env_mismatch:
        raise EnvironmentMismatchError(differences)
    if sample is None:
        sample = read_input_example(model)
    if sample is None:
        raise ArtifactFormatError(f"the MLflow model at {root} has no input example; pass a "
                                  "sample of its input (--sample FILE)")
    sample, optional = _cast(sample, model)
    estimator = _load(model, trust_pickle)
    pickled = model.serialization in PICKLE_FORMATS
    tags = {"imported_from": "mlflow", "mlflow_serialization": model.serialization,
            **{f"mlflow_{k}": str(v) for k, v in model.info.items()}}
    return pack(estimator, name=name, sample=sample, flavor="sklearn", columns=optional or None,
                tags=tags, trust_pickle=pickled, source=model.model_file if pickled else None,
                out=out, overwrite=overwrite)
