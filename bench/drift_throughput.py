"""Data drift over a large window: modelport's DataDriftCalculator beside Evidently's preset, one run.

Run: PYTHONPATH=src:. python bench/drift_throughput.py [--rows 1000000] [--reference 10000]
         [--repeat 3] [--peer-repeat 1] [--evidently /work/benchenvs/evidently/bin/python] [--json]

Data: 30 features, seeded: 24 numerical (normal, log-normal, heavy-tailed, integer counts, uniform)
and 6 categorical string columns (4 to 20 levels); the window shifts 3 numerical features and 1
categorical one on purpose. Both tools get the same pandas frames (object strings, float64) and use
the same tests at this size (normalised Wasserstein and Jensen-Shannon, threshold 0.1).
modelport's time is ``calculate(window)``, after ``fit(reference)`` (timed apart; it includes the
A/A check). Evidently's is building its two Datasets plus ``Report([DataDriftPreset()]).run``, in
its own virtualenv (bench/peers/requirements-evidently.txt), from parquet files this script writes.
Best and median of ``--repeat`` runs (``--peer-repeat`` for Evidently) are reported; the first
modelport run is a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from modelport.monitoring.drift import DataDriftCalculator, DriftConfig

NUMERICAL = [f"n{i:02d}" for i in range(24)]
CATEGORICAL = [f"c{i}" for i in range(6)]
SHIFTED = ("n00", "n07", "n13", "c0")


def _numerical(rng: np.random.Generator, i: int, rows: int, shifted: bool) -> np.ndarray:
    kind = i % 5
    if kind == 0:
        return rng.normal(0.3 if shifted else 0.0, 1.0, rows)
    if kind == 1:
        return rng.lognormal(0.0, 0.8, rows)
    if kind == 2:
        return rng.standard_t(3, rows) * (1.4 if shifted else 1.0)
    if kind == 3:
        return rng.poisson(6.0 if shifted else 4.0, rows).astype(np.float64)
    return rng.uniform(-1.0, 1.0, rows)


def frame(rows: int, seed: int, shifted: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {name: _numerical(rng, i, rows, shifted and name in SHIFTED)
                            for i, name in enumerate(NUMERICAL)}
    for i, name in enumerate(CATEGORICAL):
        levels = np.array([f"{name}_level_{k}" for k in range(4 + 3 * i)], dtype=object)
        weights = np.linspace(1.0, 2.0, len(levels))
        if shifted and name in SHIFTED:
            weights = weights[::-1] ** 2
        data[name] = levels[rng.choice(len(levels), size=rows, p=weights / weights.sum())]
    return pd.DataFrame(data)


def _timed(call: Any, repeat: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - started)
    return times, out


def measure_modelport(reference: pd.DataFrame, window: pd.DataFrame, repeat: int,
                      workers: int) -> dict[str, Any]:
    kinds = {**dict.fromkeys(NUMERICAL, "numerical"), **dict.fromkeys(CATEGORICAL, "categorical")}
    fit_times, calculator = _timed(lambda: DataDriftCalculator(DriftConfig(workers=workers))
                                   .fit(reference, kinds), 1)
    calculator.calculate(window)
    times, result = _timed(lambda: calculator.calculate(window), repeat)
    return {"workers": workers, "fit_seconds": fit_times[0], "seconds": times,
            "drifted": sorted(result.drifted), "methods": sorted({f.test.method for f in result.features}),
            "aa_flagged": list(calculator.aa_check_.flagged)}


def measure_evidently(python: str, reference: pd.DataFrame, window: pd.DataFrame,
                      repeat: int) -> dict[str, Any]:
    script = Path(__file__).parent / "peers" / "evidently_drift.py"
    with tempfile.TemporaryDirectory() as folder:
        ref_path, win_path = Path(folder) / "reference.parquet", Path(folder) / "window.parquet"
        reference.to_parquet(ref_path)
        window.to_parquet(win_path)
        done = subprocess.run([python, str(script), str(ref_path), str(win_path), ",".join(NUMERICAL),
                               ",".join(CATEGORICAL), str(repeat)],
                              capture_output=True, text=True, check=True, timeout=3600)
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evidently", default="/work/benchenvs/evidently/bin/python",
                        help="Python of a virtualenv with bench/peers/requirements-evidently.txt ('' skips)")
    parser.add_argument("--peer-repeat", type=int, default=1, help="Evidently runs (minutes each at 1M rows)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    reference, window = frame(args.reference, 0, False), frame(args.rows, 1, True)
    report: dict[str, Any] = {"rows": args.rows, "reference_rows": args.reference,
                              "features": len(NUMERICAL) + len(CATEGORICAL), "shifted": sorted(SHIFTED),
                              "cpus": os.cpu_count(), "modelport": []}
    for workers in sorted({1, os.cpu_count() or 1}):
        report["modelport"].append(measure_modelport(reference, window, args.repeat, workers))
    if args.evidently and Path(args.evidently).exists():
        report["evidently"] = measure_evidently(args.evidently, reference, window, args.peer_repeat)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"drift over {args.rows:,} rows x {report['features']} features against {args.reference:,} rows "
          f"({report['cpus']} CPUs); shifted on purpose: {', '.join(report['shifted'])}")
    best_ours = None
    for run in report["modelport"]:
        best = min(run["seconds"])
        best_ours = best if best_ours is None else min(best_ours, best)
        print(f"  modelport, {run['workers']} thread(s): best {best:.2f} s, median "
              f"{statistics.median(run['seconds']):.2f} s (fit incl. A/A check {run['fit_seconds']:.2f} s); "
              f"tests {', '.join(run['methods'])}; drifted {', '.join(run['drifted'])}")
    if "evidently" in report:
        theirs, flagged = report["evidently"]["seconds"], ", ".join(report["evidently"]["drifted"])
        building = min(report["evidently"]["dataset_seconds"])
        print(f"  Evidently DataDriftPreset: best {min(theirs):.2f} s (of which Datasets {building:.2f} s), "
              f"median {statistics.median(theirs):.2f} s; drifted {flagged}")
        assert best_ours is not None
        print(f"  Evidently / modelport (best): {min(theirs) / best_ours:.1f}x")


if __name__ == "__main__":
    main()
