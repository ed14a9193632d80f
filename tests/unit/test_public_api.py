"""The public surface is pinned, and importing it does no heavy work."""

from __future__ import annotations

import subprocess
import sys

import modelport


def test_all_is_pinned() -> None:
    assert sorted(modelport.__all__) == [
        "Artifact", "ColumnKind", "ColumnSpec", "EnvironmentMismatchError", "GoldenCheckError",
        "IntegrityError", "LoadedModel", "ModelportError", "Prediction", "SchemaError", "Signature",
        "load", "pack", "verify",
    ]
    for name in modelport.__all__:
        assert hasattr(modelport, name)


def test_import_loads_no_optional_framework() -> None:
    heavy = ["torch", "keras", "xgboost", "lightgbm", "onnxruntime", "skl2onnx", "sqlalchemy"]
    code = ("import sys, modelport; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
