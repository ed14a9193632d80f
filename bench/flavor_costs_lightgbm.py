"""Pack time, load time (median of 3) and artifact size of the lightgbm credit-data contract case.

Run from the repository root: PYTHONPATH=src:. python bench/flavor_costs_lightgbm.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.flavor_cases.lightgbm_cases import _credit_preprocessed

import modelport

REPEATS = 3


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="flavor-costs-"))
    case = _credit_preprocessed(work)
    packs, loads = [], []
    for i in range(REPEATS):
        start = time.perf_counter()
        artifact = modelport.pack(case.model, name="credit", sample=case.sample,
                                  out=work / f"art{i}", **case.pack_kwargs)
        packs.append(time.perf_counter() - start)
        start = time.perf_counter()
        modelport.load(artifact.path)
        loads.append(time.perf_counter() - start)
    du = subprocess.run(["du", "-sk", str(artifact.path)], capture_output=True, text=True,
                        check=True).stdout.split()[0]
    model_bytes = sum(p.stat().st_size for p in (artifact.path / "model").iterdir())
    print(f"lightgbm pack {statistics.median(packs):.3f}s load {statistics.median(loads):.3f}s "
          f"artifact {du} KiB (du -sk), model file {model_bytes} bytes "
          f"[python {sys.version.split()[0]}]")


if __name__ == "__main__":
    main()
