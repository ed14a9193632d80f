"""Measure what a registry resolve and a register cost on SQLite and on PostgreSQL.

    python bench/registry_costs.py [--postgres URL] [--registers 40] [--resolves 2000] [--json]

PostgreSQL is measured when a server URL is given (or MODELPORT_TEST_POSTGRES_URL is set, as
``bash scripts/postgres.sh start`` prints it); a fresh database is created on it and dropped after.
Each register stores a distinct small real artifact (copy + verify every file digest + one
transaction); each resolve is one read transaction plus the manifest digest check, as every
server request or CLI call that names a model pays it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

import modelport
from modelport.artifact.manifest import read_manifest, write_manifest
from modelport.registry.config import RegistryConfig
from modelport.registry.service import Registry

REFS = ("bench@production", "bench:1", "bench")


def _base_artifact(root: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    return modelport.pack(model, name="bench", sample=x, target=y, out=root / "base").path


def _variants(base: Path, root: Path, count: int) -> list[Path]:
    """Distinct valid artifacts: the same files under manifests that differ in one tag."""
    manifest, _ = read_manifest(base)
    out = []
    for i in range(count):
        target = Path(shutil.copytree(base, root / f"v{i}"))
        lineage = {**manifest.lineage, "tags": {"variant": str(i)}}
        write_manifest(target, dataclasses.replace(manifest, lineage=lineage))
        out.append(target)
    return out


def _timed(call: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


@contextmanager
def _postgres_database(server: str) -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"modelport_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(url: str, artifacts: list[Path], store: Path, resolves: int) -> dict[str, float]:
    """Median milliseconds per register and microseconds per resolve of each ref form."""
    config = RegistryConfig(url=url, artifacts=str(store), user="bench")
    with Registry(config) as registry:
        registry.list_models()  # open and migrate outside the timings
        registers = []
        for path in artifacts:
            start = time.perf_counter()
            registry.register(path)
            registers.append(time.perf_counter() - start)
        registry.set_alias("bench", "production", 1)
        result = {"register_ms": statistics.median(registers) * 1e3}
        for ref in REFS:
            registry.resolve(ref)  # warm the connection pool
            result[f"resolve_us[{ref}]"] = statistics.median(
                _timed(lambda r=ref: registry.resolve(r), resolves)) * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("MODELPORT_TEST_POSTGRES_URL"))
    parser.add_argument("--registers", type=int, default=40)
    parser.add_argument("--resolves", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="modelport-bench-") as scratch:
        root = Path(scratch)
        base = _base_artifact(root)
        artifacts = _variants(base, root / "sqlite-artifacts", args.registers)
        results["sqlite"] = measure(f"sqlite:///{root / 'registry.db'}", artifacts,
                                    root / "sqlite-store", args.resolves)
        if args.postgres:
            artifacts = _variants(base, root / "pg-artifacts", args.registers)
            with _postgres_database(args.postgres) as url:
                results["postgresql"] = measure(url, artifacts, root / "pg-store", args.resolves)
        else:
            print("no PostgreSQL URL (--postgres or MODELPORT_TEST_POSTGRES_URL): skipped",
                  file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"medians of {args.registers} registers and {args.resolves} resolves of each ref")
    for backend, numbers in results.items():
        print(f"{backend}:")
        for key, value in numbers.items():
            unit = "ms" if key.endswith("_ms") else "µs"
            print(f"  {key.removesuffix('_ms'):32} {value:10,.1f} {unit}")


if __name__ == "__main__":
    main()
