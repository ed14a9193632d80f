"""The artifact manifest (format v1): what the artifact holds, canonical JSON, and its digest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelport.artifact.files import MANIFEST, sha256_bytes
from modelport.core.schema import Signature
from modelport.errors import ArtifactFormatError

FORMAT_VERSION = 1
TASKS = ("classification", "regression", "other")


@dataclass(frozen=True)
class Manifest:
    """Everything the artifact says about itself; its sha256 is the artifact's id."""

    name: str
    flavor: str
    task: str
    signature: Signature
    files: dict[str, str]
    labels: list[Any] | None = None
    flavor_meta: dict[str, Any] = field(default_factory=dict)
    preprocess: dict[str, Any] | None = None
    lineage: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    golden: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    trust_pickle: bool = False
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "name": self.name,
            "flavor": self.flavor,
            "flavor_meta": self.flavor_meta,
            "task": self.task,
            "labels": self.labels,
            "signature": self.signature.to_dict(),
            "preprocess": self.preprocess,
            "lineage": self.lineage,
            "environment": self.environment,
            "golden": self.golden,
            "reference": self.reference,
            "trust_pickle": self.trust_pickle,
            "files": dict(sorted(self.files.items())),
        }

    def to_json(self) -> bytes:
        """Canonical bytes: sorted keys, no whitespace, so equal manifests hash equal."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False).encode("utf-8")

    @property
    def digest(self) -> str:
        return sha256_bytes(self.to_json())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ArtifactFormatError(f"unsupported artifact format_version {version!r} "
                                      f"(this modelport reads {FORMAT_VERSION})")
        try:
            task = str(data["task"])
            if task not in TASKS:
                raise ArtifactFormatError(f"unknown task {task!r} in manifest")
            return cls(
                name=str(data["name"]),
                flavor=str(data["flavor"]),
                task=task,
                signature=Signature.from_dict(data["signature"]),
                files={str(k): str(v) for k, v in data["files"].items()},
                labels=data.get("labels"),
                flavor_meta=dict(data.get("flavor_meta") or {}),
                preprocess=data.get("preprocess"),
                lineage=dict(data.get("lineage") or {}),
                environment=dict(data.get("environment") or {}),
                golden=dict(data.get("golden") or {}),
                reference=dict(data.get("reference") or {}),
                trust_pickle=bool(data.get("trust_pickle", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ArtifactFormatError):
                raise
            raise ArtifactFormatError(f"malformed manifest: {exc!r}") from exc


def read_manifest(root: Path) -> tuple[Manifest, str]:
    """Read ``root/manifest.json``; return the manifest and the sha256 of its bytes."""
    path = root / MANIFEST
    if not path.is_file():
        raise ArtifactFormatError(f"{root} is not a modelport artifact: no {MANIFEST}")
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ArtifactFormatError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ArtifactFormatError(f"{path} must hold a JSON object")
    return Manifest.from_dict(data), sha256_bytes(raw)


def write_manifest(root: Path, manifest: Manifest) -> str:
    data = manifest.to_json()
    (root / MANIFEST).write_bytes(data)
    return sha256_bytes(data)
