"""Pack time, load time and artifact size for every flavor case of the contract suite.

Run: .venv/bin/python bench/artifact_costs.py [--repeat 3]   (prints a Markdown table)
Load time includes digest verification, the lock comparison and the golden check.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.flavor_cases import all_cases

import modelport


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _model_size(path: Path) -> int:
    return _size(path / "model") + (_size(path / "preprocess") if (path / "preprocess").exists() else 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-k", default="", help="only cases whose id contains this")
    args = parser.parse_args()
    print("| case | sample rows | pack s (median) | load ms (median) | artifact KiB | model KiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for case in all_cases():
        if args.k not in case.id:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            data = case.build(root)
            packs, loads = [], []
            for i in range(args.repeat):
                started = time.perf_counter()
                artifact = modelport.pack(data.model, name="bench", sample=data.sample, flavor=case.flavor,
                                          out=root / f"a{i}", **data.pack_kwargs)
                packs.append(time.perf_counter() - started)
                started = time.perf_counter()
                modelport.load(artifact.path)
                loads.append(time.perf_counter() - started)
            print(f"| {case.id} | {len(data.sample)} | {statistics.median(packs):.2f} | "
                  f"{statistics.median(loads) * 1000:.0f} | {_size(artifact.path) / 1024:.0f} | "
                  f"{_model_size(artifact.path) / 1024:.0f} |", flush=True)


if __name__ == "__main__":
    main()
