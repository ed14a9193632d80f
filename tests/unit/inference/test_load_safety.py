"""What load refuses: tampering, another environment, skewed golden rows, untrusted code."""

from __future__ import annotations

import json
import logging
from importlib import metadata
from pathlib import Path

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

import modelport
from modelport.errors import (
    ArtifactFormatError,
    EnvironmentMismatchError,
    GoldenCheckError,
    IntegrityError,
    UnsafeArtifactError,
)
from modelport.inference.pack import pack_file
from tests.artifacts import resign, small_classifier
from tests.data import numeric_classification


def _edit_lock(root: Path, name: str, version: str) -> None:
    lock = root / "requirements.lock"
    lines = [f"{name}=={version}" if line.startswith(f"{name}==") else line
             for line in lock.read_text().splitlines()]
    lock.write_text("\n".join(lines) + "\n")


def test_manifest_digest_is_the_artifact_id(tmp_path: Path) -> None:
    import hashlib

    artifact, _ = small_classifier(tmp_path / "a")
    assert artifact.digest == hashlib.sha256((artifact.path / "manifest.json").read_bytes()).hexdigest()
    assert modelport.load(artifact.path).digest == artifact.digest


def test_edited_lock_without_resigning_is_tampering(tmp_path: Path) -> None:
    artifact, _ = small_classifier(tmp_path / "a")
    _edit_lock(artifact.path, "scikit-learn", "0.0.1")
    with pytest.raises(IntegrityError, match="requirements.lock"):
        modelport.load(artifact.path)


def test_framework_version_mismatch_is_an_error_unless_allowed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    artifact, x = small_classifier(tmp_path / "a")
    _edit_lock(artifact.path, "scikit-learn", "0.0.1")
    _edit_lock(artifact.path, "joblib", "0.0.2")
    resign(artifact.path)
    with pytest.raises(EnvironmentMismatchError) as info:
        modelport.load(artifact.path)
    assert info.value.differences == [
        f"scikit-learn==0.0.1 packed, {metadata.version('scikit-learn')} here"]
    with caplog.at_level(logging.WARNING, logger="modelport.inference"):
        loaded = modelport.load(artifact.path, allow_env_mismatch=True)
    assert "joblib==0.0.2 packed" in caplog.text
    assert len(loaded.predict(x.head(3))) == 3


def test_golden_failure_names_rows_difference_and_environment(tmp_path: Path) -> None:
    artifact, _ = small_classifier(tmp_path / "a")
    outputs = artifact.path / "golden" / "outputs.json"
    data = json.loads(outputs.read_text())
    data["probabilities"][3] = [p + 0.25 for p in data["probabilities"][3]]
    outputs.write_text(json.dumps(data))
    _edit_lock(artifact.path, "numpy", "1.0.0")
    resign(artifact.path)
    with pytest.raises(GoldenCheckError) as info:
        modelport.load(artifact.path)
    assert info.value.rows == [3]
    assert info.value.max_difference == pytest.approx(0.25)
    assert any(e.startswith("numpy==1.0.0 packed") for e in info.value.environment)
    assert modelport.load(artifact.path, golden_check=False).name == "small"


def test_pickle_files_need_trust_at_pack_time(tmp_path: Path) -> None:
    x, y = numeric_classification(80)
    path = tmp_path / "m.joblib"
    joblib.dump(LogisticRegression().fit(x, y), path)
    with pytest.raises(UnsafeArtifactError, match="--trust-pickle"):
        pack_file(path, name="p", sample=x, out=tmp_path / "p")
    artifact = pack_file(path, name="p", sample=x, out=tmp_path / "p", trust_pickle=True)
    assert artifact.manifest.trust_pickle
    assert (artifact.path / "model" / "model.joblib").is_file()
    resign(artifact.path, trust_pickle=False)  # someone flips the flag and re-signs
    with pytest.raises(UnsafeArtifactError, match="not packed with --trust-pickle"):
        modelport.load(artifact.path)


def test_skops_refuses_types_nobody_accepted(tmp_path: Path) -> None:
    from sklearn.pipeline import make_pipeline

    from tests.custom_estimators import Doubler

    x, y = numeric_classification(80)
    model = make_pipeline(Doubler(), LogisticRegression()).fit(x, y)
    artifact = modelport.pack(model, name="c", sample=x, out=tmp_path / "c")
    meta = artifact.manifest.flavor_meta
    assert meta["trusted_types"] == ["tests.custom_estimators.Doubler"]
    assert modelport.load(artifact.path).predict(x.head(2)).tolist() == model.predict(x.head(2)).tolist()
    resign(artifact.path, flavor_meta={**meta, "trusted_types": []})
    with pytest.raises(UnsafeArtifactError, match="tests.custom_estimators.Doubler"):
        modelport.load(artifact.path)


def test_not_an_artifact_and_bad_format_version(tmp_path: Path) -> None:
    with pytest.raises(ArtifactFormatError, match="neither an artifact folder"):
        modelport.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactFormatError, match="no manifest.json"):
        modelport.load(tmp_path / "empty")
    artifact, _ = small_classifier(tmp_path / "a")
    resign(artifact.path, format_version=99)
    with pytest.raises(ArtifactFormatError, match="format_version 99"):
        modelport.load(artifact.path)
