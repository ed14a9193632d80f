"""Open an artifact: verify digests and the lock BEFORE deserializing, then run the golden check."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelport.artifact import lock as lockmod
from modelport.artifact import preprocess as prep
from modelport.artifact.archive import extract_tar
from modelport.artifact.files import MODEL_FOLDER, verify_tree
from modelport.artifact.flavors import get_flavor
from modelport.artifact.flavors.base import PlacesOnDevice
from modelport.artifact.manifest import Manifest, read_manifest
from modelport.errors import (
    ArtifactFormatError,
    EnvironmentMismatchError,
    FlavorError,
    GoldenCheckError,
    UnsafeArtifactError,
)
from modelport.inference import golden
from modelport.inference.model import LoadedModel

log = logging.getLogger("modelport.inference")


@dataclass(frozen=True)
class Verified:
    """An artifact folder whose every file matched its manifest digest."""

    root: Path
    manifest: Manifest
    digest: str
    environment: lockmod.EnvironmentReport


def unpack_if_tar(path: Path) -> Path:
    """A folder as is; a ``.tar`` extracted into a fresh temporary folder."""
    if path.is_dir():
        return path
    if path.is_file() and path.suffix == ".tar":
        return extract_tar(path, Path(tempfile.mkdtemp(prefix="modelport-")))
    raise ArtifactFormatError(f"{path} is neither an artifact folder nor an artifact .tar")


def verify(path: str | Path, *, allow_env_mismatch: bool = False) -> Verified:
    """Check digests and the dependency lock; deserialize nothing."""
    root = unpack_if_tar(Path(path))
    manifest, digest = read_manifest(root)
    verify_tree(root, manifest.files)
    lock = lockmod.Lock.from_text((root / lockmod.LOCK_FILE).read_text())
    flavor = get_flavor(manifest.flavor)
    report = lockmod.compare(lock, flavor.frameworks)
    if report.errors and not allow_env_mismatch:
        raise EnvironmentMismatchError(report.errors)
    return Verified(root, manifest, digest, report)


def open_verified(verified: Verified) -> LoadedModel:
    """Deserialize a verified artifact (no golden check)."""
    manifest = verified.manifest
    if manifest.flavor_meta.get("serialization") == "pickle" and not manifest.trust_pickle:
        raise UnsafeArtifactError("the artifact holds a pickle but was not packed with --trust-pickle")
    flavor = get_flavor(manifest.flavor)
    model = flavor.load(verified.root / MODEL_FOLDER, manifest.flavor_meta,
                        trust_pickle=manifest.trust_pickle)
    preprocessor = (prep.load(verified.root, manifest.preprocess, verified.digest)
                    if manifest.preprocess else None)
    return LoadedModel(manifest, flavor, model, preprocessor, verified.digest, verified.root)


def place(model: LoadedModel, device: str) -> LoadedModel:
    """Run ``model`` on ``device``: ``cpu``, ``cuda``, ``cuda:N``, or ``auto`` (an accelerator if any)."""
    if device == "cpu" or (device == "auto" and not isinstance(model.flavor, PlacesOnDevice)):
        return model
    if not isinstance(model.flavor, PlacesOnDevice):
        raise FlavorError(f"the {model.flavor.name} flavor runs on the CPU only; device {device!r} "
                          "cannot be used")
    model.model, model.device = model.flavor.place(model.model, device)
    return model


def load(path: str | Path, *, allow_env_mismatch: bool = False, golden_check: bool = True,
         device: str = "cpu") -> LoadedModel:
    """Verify, deserialize, place on ``device`` and golden-check an artifact folder or ``.tar``.

    The golden check runs on the device the model will serve from, so an accelerator that computes
    differently beyond the flavor's tolerance is caught here.
    """
    verified = verify(path, allow_env_mismatch=allow_env_mismatch)
    for warning in verified.environment.warnings:
        log.warning("artifact %s: %s", verified.manifest.name, warning)
    model = place(open_verified(verified), device)
    if golden_check:
        check_golden(model, verified)
    return model


def check_golden(model: LoadedModel, verified: Verified) -> None:
    """Raise GoldenCheckError unless ``model`` reproduces the artifact's golden outputs."""
    result = golden.run(model, verified.root)
    if not result.passed:
        raise GoldenCheckError(result.failed_rows, result.max_difference, result.tolerance,
                               verified.environment.all)
