"""Importing modelport (and its flavor registry) loads no heavy optional framework."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import modelport

HEAVY = ("torch", "keras", "onnxruntime", "onnx", "h5py", "skl2onnx", "xgboost", "lightgbm", "sqlalchemy")


def test_import_loads_no_framework() -> None:
    code = ("import sys, modelport, modelport.artifact.flavors, modelport.inference.pack; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(modelport.__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, check=True, timeout=120)
    assert result.stdout.strip() == ""
