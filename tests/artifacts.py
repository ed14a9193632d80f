"""Helpers that build small real artifacts and re-sign edited ones (simulating another packer)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import modelport
from modelport.artifact.files import MANIFEST, digest_tree
from tests.data import credit, numeric_classification


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


def golden_mismatch(source: Path, target: Path) -> Path:
    """A copy of the artifact at ``source`` whose golden outputs no longer match its model, re-signed
    as another packer would: it loads, and fails its golden check."""
    shutil.copytree(source, target)
    outputs = target / "golden" / "outputs.json"
    data = json.loads(outputs.read_text())
    data["probabilities"][2] = [p + 0.25 for p in data["probabilities"][2]]
    outputs.write_text(json.dumps(data))
    resign(target)
    return target


def credit_pipeline(rows: int = 600) -> tuple[Pipeline, pd.DataFrame, pd.Series]:
    """A mixed-type credit-data classifier (imputation, scaling, one-hot), fitted, with its data."""
    x, y = credit(rows)
    return credit_pipeline_on(x, y), x, y


def credit_pipeline_on(x: pd.DataFrame, y: pd.Series) -> Pipeline:
    """The credit pipeline (imputation, scaling, one-hot, logistic regression) fitted on ``x, y``."""
    cat = [c for c in x if x[c].dtype == object]
    num = [c for c in x if c not in cat]
    pre = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), num),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                          ("oh", OneHotEncoder(handle_unknown="ignore"))]), cat),
    ])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(x, y)


def credit_artifact(out: Path, rows: int = 600) -> modelport.Artifact:
    """Pack the credit pipeline into ``out``."""
    model, x, y = credit_pipeline(rows)
    return modelport.pack(model, name="credit", sample=x, target=y, out=out)
