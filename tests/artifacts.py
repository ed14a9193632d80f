"""Helpers that build small real artifacts and re-sign edited ones (simulating another packer)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression

import modelport
from modelport.artifact.files import MANIFEST, digest_tree
from tests.data import numeric_classification


def small_classifier(out: Path, **options: object) -> tuple[modelport.Artifact, pd.DataFrame]:
    x, y = numeric_classification(120)
    model = LogisticRegression().fit(x, y)
    return modelport.pack(model, name="small", sample=x, target=y, out=out, **options), x


def resign(root: Path, **manifest_changes: object) -> None:
    """Recompute every file digest (and apply manifest edits) as a packer elsewhere would."""
    manifest = json.loads((root / MANIFEST).read_text())
    manifest.update(manifest_changes)
    manifest["files"] = digest_tree(root)
    (root / MANIFEST).write_text(json.dumps(manifest, sort_keys=True, separators=(",", ":")))
