"""Batch scoring throughput: ``modelport batch`` end to end against the model's own predict in memory.

Run: PYTHONPATH=src:. python bench/batch_throughput.py [--rows 1000000] [--workers N] [--chunk-rows R]
Data: ROWS x 30 float64 columns, generated and written as Parquet (row groups of 100,000 rows).
Models: a 100-tree RandomForestClassifier (max_depth 12) and a StandardScaler + LogisticRegression
pipeline, both fitted on 20,000 generated rows and packed with modelport.pack.

For each model:
- in memory, 1 process: the sklearn estimator's own predict_proba on the whole matrix, and the shared
  path LoadedModel.validate + predict_frame(proba=True) on the whole frame, data already in memory;
- in memory, all cores: the same shared path on one slice per worker in forked processes at once
  (no reading, no writing, no process start); the limit the ratios use is the larger of this and
  the 1-process rate times the workers;
- end to end: ``modelport batch`` as a user runs it (a new process: imports, model load and golden
  check in the pool, Parquet read, validation, prediction, Parquet parts written and synced), with
  the peak memory of its whole process tree sampled every 0.2 s: the sum of RSS (counts pages the
  forked workers share once per process) and the sum of PSS (shares them out);
- with --spark, the same through ``--engine spark`` on local[WORKERS] (Spark's JVM and Python workers),
  and, where mlflow imports (mlflow-skinny is enough), MLflow's ``mlflow.pyfunc.spark_udf`` as the
  peer: the same estimator saved with ``mlflow.sklearn.save_model`` (with a signature, so columns go
  by name), scored in a new process from the Spark session's start to the Parquet output written,
  ``env_manager="local"`` (this interpreter), predict_proba as an array column.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import modelport
from modelport.engines.local import default_workers

COLUMNS = [f"f{i:02d}" for i in range(30)]


def _data(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(rows, len(COLUMNS))), columns=COLUMNS)
    score = x["f00"] - 0.5 * x["f01"] + 0.25 * x["f02"] * x["f03"] + rng.normal(scale=0.5, size=rows)
    return x, (score > 0).astype(int).to_numpy()


def _write_input(path: Path, rows: int) -> None:
    writer = None
    for start in range(0, rows, 100_000):
        x, _ = _data(min(100_000, rows - start), seed=start + 1)
        table = pa.Table.from_pandas(x, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def _pack(root: Path) -> dict[str, Path]:
    x, y = _data(20_000, seed=0)
    models = {
        "random forest (100 trees)": RandomForestClassifier(n_estimators=100, max_depth=12,
                                                            random_state=0).fit(x, y),
        "scaled logistic regression": make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
    }
    paths = {}
    for i, (name, model) in enumerate(models.items()):
        paths[name] = root / f"model{i}"
        modelport.pack(model, name=f"bench{i}", sample=x[:2000], target=y[:2000], out=paths[name])
    return paths


_SHARED: dict[str, Any] = {}


def _predict_slice(index: int, parts: int) -> None:
    model, frame = _SHARED["model"], _SHARED["frame"]
    rows = len(frame)
    piece = frame.iloc[index * rows // parts:(index + 1) * rows // parts].reset_index(drop=True)
    model.predict_frame(model.validate(piece)[0], proba=True)


def _in_memory(path: Path, frame: pd.DataFrame, workers: int) -> dict[str, float]:
    model = modelport.load(path)
    started = time.perf_counter()
    model.model.predict_proba(frame)  # type: ignore[attr-defined]
    raw = time.perf_counter() - started
    started = time.perf_counter()
    model.predict_frame(model.validate(frame)[0], proba=True)
    shared = time.perf_counter() - started
    _SHARED.update(model=model, frame=frame)
    fork = mp.get_context("fork")
    started = time.perf_counter()
    processes = [fork.Process(target=_predict_slice, args=(i, workers)) for i in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    parallel = time.perf_counter() - started
    rows = len(frame)
    return {"sklearn predict_proba, 1 process": rows / raw,
            "validate + predict_frame, 1 process": rows / shared,
            f"validate + predict_frame, {workers} processes": rows / parallel}


class _Memory(threading.Thread):
    """Samples the summed RSS and PSS of a process and its descendants until it exits."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0

    def run(self) -> None:
        while self.root.is_running() and self.root.status() != psutil.STATUS_ZOMBIE:
            rss = pss = 0
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                for process in tree:
                    info = process.memory_full_info()
                    rss += info.rss
                    pss += info.pss
            except psutil.Error:
                continue
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.peak_processes = max(self.peak_processes, len(tree))
            time.sleep(0.2)


def _watched(command: list[str], what: str) -> tuple[float, str, _Memory]:
    """Run ``command`` to its end; its wall seconds, its output and the peak memory of its processes."""
    started = time.perf_counter()
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = _Memory(run.pid)
    memory.start()
    stdout, stderr = run.communicate()
    wall = time.perf_counter() - started
    memory.join()
    if run.returncode != 0:
        raise SystemExit(f"{what} failed: {stderr[-3000:]}")
    return wall, stdout, memory


def _end_to_end(path: Path, source: Path, out: Path, workers: int, chunk_rows: int,
                engine: str = "local") -> dict[str, Any]:
    command = [sys.executable, "-c", "from modelport.cli.main import main; main()", "batch", str(path),
               str(source), str(out), "--workers", str(workers), "--chunk-rows", str(chunk_rows), "--json",
               "--engine", engine, "--master", f"local[{workers}]"]
    wall, stdout, memory = _watched(command, "modelport batch")
    summary = json.loads(stdout)
    steady = summary["rows"] / (summary["seconds"] - summary["startup_seconds"])
    return {"wall s": wall, "rows/s": summary["rows"] / wall, "run s": summary["seconds"],
            "startup s": summary["startup_seconds"], "steady rows/s": steady,
            "peak RSS MiB": memory.peak_rss / 2**20, "peak PSS MiB": memory.peak_pss / 2**20,
            "processes": memory.peak_processes, "peak chunks in flight": summary["peak_chunks_in_flight"]}


def _mlflow_udf_run(model_dir: str, source: str, out: str, workers: int) -> None:
    """In its own process: score ``source`` with MLflow's spark_udf into Parquet; print rows and s."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    started = time.perf_counter()
    import mlflow.pyfunc
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{workers}]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(source)
    udf = mlflow.pyfunc.spark_udf(spark, model_dir, env_manager="local", result_type="array<double>")
    frame.withColumn("proba", udf(*COLUMNS)).write.mode("overwrite").parquet(out)
    rows = spark.read.parquet(out).count()
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))
    spark.stop()


def _mlflow_udf(path: Path, source: Path, out: Path, workers: int) -> dict[str, Any]:
    """MLflow's spark_udf on the estimator packed at ``path``, end to end in a new process."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    loaded = modelport.load(path)
    estimator = loaded.model
    sample, _ = _data(1000, seed=7)
    model_dir = out.with_name(out.name + "-mlflow-model")
    # MLflow saves with skops too; it trusts the types modelport's pack accepted for the same model
    mlflow.sklearn.save_model(estimator, str(model_dir), pyfunc_predict_fn="predict_proba",
                              skops_trusted_types=list(loaded.manifest.flavor_meta.get("trusted_types", [])),
                              signature=infer_signature(sample, estimator.predict_proba(sample)))
    command = [sys.executable, __file__, "--mlflow-udf-run", str(model_dir), str(source), str(out),
               str(workers)]
    wall, stdout, memory = _watched(command, "mlflow spark_udf")
    done = json.loads(stdout.strip().splitlines()[-1])
    return {"wall s": wall, "rows/s": done["rows"] / wall, "peak PSS MiB": memory.peak_pss / 2**20}


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--mlflow-udf-run":
        _mlflow_udf_run(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--spark", action="store_true", help="also run --engine spark (pyspark installed)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="modelport-batch-bench-"))
    try:
        source = root / "input.parquet"
        _write_input(source, args.rows)
        paths = _pack(root)
        frame = pd.read_parquet(source)
        print(f"{args.rows:,} rows x {len(COLUMNS)} float64 columns ({source.stat().st_size / 2**20:.0f} MiB "
              f"Parquet); {args.workers} workers, chunks of {args.chunk_rows:,} rows; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        results = {}
        for i, (name, path) in enumerate(paths.items()):
            memory = _in_memory(path, frame, args.workers)
            e2e = _end_to_end(path, source, root / f"out{i}", args.workers, args.chunk_rows)
            results[name] = {"in memory rows/s": memory, "end to end": e2e}
            # the physical limit: the better of the measured parallel rate and one process's rate on
            # every worker (on a shared machine the measured parallel rate can fall below either)
            limit = max(memory[f"validate + predict_frame, {args.workers} processes"],
                        memory["validate + predict_frame, 1 process"] * args.workers)
            print(f"\n## {name}")
            for what, rate in memory.items():
                print(f"in memory, {what:<40} {rate:>12,.0f} rows/s")
            print(f"end to end, modelport batch{'':<26} {e2e['rows/s']:>12,.0f} rows/s "
                  f"= {e2e['rows/s'] / limit:.0%} of the in-memory limit ({args.workers} processes)")
            print(f"  wall {e2e['wall s']:.1f} s: CLI start {e2e['wall s'] - e2e['run s']:.1f} s, pool start "
                  f"(imports, model load, golden check, fork) {e2e['startup s']:.1f} s; after the pool "
                  f"start {e2e['steady rows/s']:,.0f} rows/s "
                  f"= {e2e['steady rows/s'] / limit:.0%} of the limit")
            print(f"  peak memory of the {e2e['processes']} processes: RSS {e2e['peak RSS MiB']:,.0f} MiB "
                  f"summed, PSS {e2e['peak PSS MiB']:,.0f} MiB; at most {e2e['peak chunks in flight']} "
                  "chunks in flight")
            if args.spark:
                spark = _end_to_end(path, source, root / f"spark{i}", args.workers, args.chunk_rows, "spark")
                results[name]["spark end to end"] = spark
                print(f"end to end, modelport batch --engine spark (local[{args.workers}]) "
                      f"{spark['rows/s']:>12,.0f} rows/s = {spark['rows/s'] / limit:.0%} of the limit; wall "
                      f"{spark['wall s']:.1f} s, session start {spark['startup s']:.1f} s, peak PSS "
                      f"{spark['peak PSS MiB']:,.0f} MiB (JVM included)")
                if importlib.util.find_spec("mlflow") is not None:
                    peer = _mlflow_udf(path, source, root / f"mlflow{i}", args.workers)
                    results[name]["mlflow spark_udf end to end"] = peer
                    print(f"end to end, MLflow spark_udf (local[{args.workers}], env_manager=local) "
                          f"{peer['rows/s']:>12,.0f} rows/s = {peer['rows/s'] / limit:.0%} of the limit; "
                          f"wall {peer['wall s']:.1f} s, peak PSS {peer['peak PSS MiB']:,.0f} MiB "
                          "(JVM included)")
        print("\n" + json.dumps(results, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
