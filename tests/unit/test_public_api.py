"""The public surface is pinned, and importing it does no heavy work."""

from __future__ import annotations

import modelport


def test_all_is_pinned() -> None:
    assert sorted(modelport.__all__) == [
        "Artifact", "ColumnKind", "ColumnSpec", "EnvironmentMismatchError", "GoldenCheckError",
        "IntegrityError", "LoadedModel", "ModelVersion", "ModelportError", "Prediction", "Registry",
        "Resolved", "SchemaError", "Settings", "Signature", "load", "open_registry", "pack", "verify",
    ]
    for name in modelport.__all__:
        assert hasattr(modelport, name)
