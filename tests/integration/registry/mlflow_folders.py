"""Write MLflow sklearn model folders exactly as ``mlflow.sklearn.save_model`` (MLflow 3.17) does.

The layout, read from folders MLflow itself wrote (``test_mlflow_import`` checks this writer against
real MLflow when it is installed)::

    MLmodel                     YAML: flavors.python_function {env: {conda, virtualenv},
                                loader_module: mlflow.sklearn, model_path, predict_fn, python_version},
                                flavors.sklearn {code, pickled_model, serialization_format
                                (cloudpickle | pickle | skops), sklearn_version, skops_trusted_types},
                                mlflow_version, model_uuid, signature {inputs, outputs: JSON strings,
                                params}, saved_input_example_info {artifact_path, type, pandas_orient,
                                serving_input_path}, utc_time_created, ...
    model.pkl | model.skops     the estimator (cloudpickle.dump, pickle.dump or skops.io.dump)
    requirements.txt            pinned pip requirements
    conda.yaml, python_env.yaml the environment in conda and virtualenv form
    input_example.json          when logged: {"columns", "data"} (pandas split orient) or a list
    serving_input_example.json  the example as a scoring request
"""

from __future__ import annotations

import json
import pickle
import platform
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import skops.io as sio
import yaml

MLFLOW_TYPES = {"float64": "double", "float32": "float", "int64": "long", "int32": "integer",
                "bool": "boolean", "object": "string"}


def column_specs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"type": MLFLOW_TYPES[str(frame[c].dtype)], "name": c, "required": True}
            for c in frame.columns]


def tensor_spec(array: np.ndarray) -> list[dict[str, Any]]:
    return [{"type": "tensor", "tensor-spec": {"dtype": str(array.dtype),
                                               "shape": [-1, *array.shape[1:]]}}]


def write_mlflow_folder(root: Path, model: Any, *, serialization: str = "cloudpickle",
                        example: pd.DataFrame | np.ndarray | None = None,
                        inputs: list[dict[str, Any]] | None = None,
                        sklearn_version: str | None = None) -> Path:
    root.mkdir(parents=True)
    model_file = "model.skops" if serialization == "skops" else "model.pkl"
    if serialization == "skops":
        sio.dump(model, root / model_file)
    else:
        with (root / model_file).open("wb") as handle:
            (cloudpickle if serialization == "cloudpickle" else pickle).dump(model, handle)
    sklearn_version = sklearn_version or metadata.version("scikit-learn")
    mlmodel: dict[str, Any] = {
        "flavors": {
            "python_function": {"env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                                "loader_module": "mlflow.sklearn", "model_path": model_file,
                                "predict_fn": "predict", "python_version": platform.python_version()},
            "sklearn": {"code": None, "pickled_model": model_file,
                        "serialization_format": serialization, "sklearn_version": sklearn_version,
                        "skops_trusted_types": None},
        },
        "is_signature_from_type_hint": False,
        "mlflow_version": "3.17.2",
        "model_id": None,
        "model_size_bytes": (root / model_file).stat().st_size,
        "model_uuid": uuid.uuid4().hex,
        "prompts": None,
        "type_hint_from_example": False,
        "utc_time_created": "2026-11-25 13:40:09.993371",
    }
    if inputs is not None:
        mlmodel["signature"] = {"inputs": json.dumps(inputs), "params": None, "outputs": json.dumps(
            [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}])}
    if example is not None:
        _write_example(root, mlmodel, example)
    (root / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=True))
    requirements = f"mlflow==3.17.2\nscikit-learn=={sklearn_version}\n"
    (root / "requirements.txt").write_text(requirements)
    (root / "conda.yaml").write_text(yaml.safe_dump({
        "channels": ["conda-forge"], "name": "mlflow-env",
        "dependencies": [f"python={platform.python_version()}", "pip<=26.3",
                         {"pip": requirements.split()}]}))
    (root / "python_env.yaml").write_text(yaml.safe_dump({
        "python": platform.python_version(), "build_dependencies": ["pip==26.3", "wheel"],
        "dependencies": ["-r requirements.txt"]}))
    return root


def _write_example(root: Path, mlmodel: dict[str, Any], example: pd.DataFrame | np.ndarray) -> None:
    info: dict[str, Any] = {"artifact_path": "input_example.json",
                            "serving_input_path": "serving_input_example.json"}
    if isinstance(example, pd.DataFrame):
        data: Any = {"columns": list(example.columns), "data": example.to_numpy().tolist()}
        info |= {"type": "dataframe", "pandas_orient": "split"}
        serving = {"dataframe_split": data}
    else:
        data = example.tolist()
        info["type"] = "ndarray"
        serving = {"inputs": data}
    (root / "input_example.json").write_text(json.dumps(data))
    (root / "serving_input_example.json").write_text(json.dumps(serving, indent=2))
    mlmodel["saved_input_example_info"] = info
