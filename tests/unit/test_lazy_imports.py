"""Importing modelport (and its flavor registry) loads no heavy optional framework, and loading a
scikit-learn artifact does not load torch, nor does the CLI load the registry's database for
a path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import modelport
from tests.artifacts import small_classifier

HEAVY = ("torch", "keras", "onnxruntime", "onnx", "h5py", "skl2onnx", "xgboost", "lightgbm", "sqlalchemy")


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter holds after running ``code``."""
    probe = f"import sys\n{code}\nprint(','.join(m for m in {modules!r} if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(Path(modelport.__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env, check=True, timeout=120)
    return [name for name in result.stdout.strip().split(",") if name]


def test_import_loads_no_framework() -> None:
    code = "import modelport, modelport.artifact.flavors, modelport.inference.pack"
    assert _loaded_after(code, HEAVY) == []


def test_loading_a_skops_artifact_imports_no_torch(tmp_path: Path) -> None:
    # skops lists sklearn's estimators on import by walking every sklearn package; the walk would
    # import sklearn's array-API namespace for torch, and torch with it
    small_classifier(tmp_path / "model")
    code = f"import modelport\nmodelport.load({str(tmp_path / 'model')!r})"
    assert _loaded_after(code, ("torch", "skops.io")) == ["skops.io"]


def test_skops_import_leaves_no_placeholder() -> None:
    code = ("from modelport.artifact.flavors.sklearn import TORCH_NAMESPACE, skops_io\nskops_io()\n"
            "assert TORCH_NAMESPACE not in sys.modules, sys.modules.get(TORCH_NAMESPACE)\n"
            "import importlib\nreal = importlib.import_module(TORCH_NAMESPACE)\n"
            "assert hasattr(real, '__array_api_version__')")
    assert _loaded_after(code, ("torch",)) == ["torch"]


def test_cli_with_a_path_ref_imports_no_database_nor_framework(tmp_path: Path) -> None:
    # the main process of `modelport batch PATH ...` reads and plans; the pool's workers load the model
    small_classifier(tmp_path / "model")
    code = ("import modelport.cli.main\nfrom modelport.cli.batch_commands import resolve_model\n"
            f"resolve_model({str(tmp_path / 'model')!r})")
    assert _loaded_after(code, (*HEAVY, "sklearn", "skops.io")) == []
