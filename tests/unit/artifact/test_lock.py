from __future__ import annotations

from importlib import metadata

import pytest

from modelport.artifact.lock import Lock, capture, compare, imports_of
from modelport.errors import ArtifactFormatError


def test_capture_follows_requirements_transitively() -> None:
    lock = capture(["scikit-learn"])
    assert lock.packages["scikit-learn"] == metadata.version("scikit-learn")
    assert {"numpy", "scipy", "joblib", "threadpoolctl"} <= set(lock.packages)
    assert "torch" not in lock.packages


def test_modules_map_to_their_distributions() -> None:
    assert "scikit-learn" in capture([], ["sklearn.linear_model"]).packages


def test_text_round_trip_and_bad_lines() -> None:
    lock = Lock({"numpy": "2.0.0", "scikit-learn": "1.5.0"}, "3.11.7", "linux-x86_64")
    assert Lock.from_text(lock.to_text()) == lock
    with pytest.raises(ArtifactFormatError, match="line 2"):
        Lock.from_text("numpy==1\nnot a pin\n")


def test_framework_differences_are_errors_and_others_warnings() -> None:
    here = metadata.version("scikit-learn")
    lock = Lock({"scikit-learn": "0.1.0", "numpy": "0.0.1", "joblib": metadata.version("joblib")},
                "2.7.18", "plan9-mips")
    report = compare(lock, ["scikit-learn"])
    assert report.errors == [f"scikit-learn==0.1.0 packed, {here} here"]
    assert any(w.startswith("numpy==0.0.1 packed") for w in report.warnings)
    assert any("python 2.7.18 packed" in w for w in report.warnings)
    assert any("platform plan9-mips packed" in w for w in report.warnings)


def test_imports_of_ignores_stdlib_and_relative(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    source = Path(str(tmp_path)) / "m.py"
    source.write_text("import os\nimport numpy as np\nfrom sklearn.base import X\nfrom . import y\n")
    assert imports_of(source) == {"numpy", "sklearn"}
