"""Real artifacts the deploy tests start from: the credit-data sklearn pipeline, packed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import modelport
from modelport.artifact.files import digest_tree
from modelport.artifact.manifest import read_manifest, write_manifest
from tests.data import credit


def credit_artifact(out: Path, rows: int = 600) -> modelport.Artifact:
    """Pack a mixed-type credit-data classifier (imputation, scaling, one-hot) into ``out``."""
    x, y = credit(rows)
    cat = [c for c in x if x[c].dtype == object]
    num = [c for c in x if c not in cat]
    pre = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), num),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                          ("oh", OneHotEncoder(handle_unknown="ignore"))]), cat),
    ])
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(x, y)
    return modelport.pack(model, name="credit", sample=x, target=y, out=out)


def redigest(root: Path) -> str:
    """Rewrite the manifest over the files as they are now: a consistent but doctored artifact."""
    manifest, _ = read_manifest(root)
    return write_manifest(root, dataclasses.replace(manifest, files=digest_tree(root)))
