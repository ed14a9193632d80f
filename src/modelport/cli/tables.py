"""Read and write the data files the CLI accepts: CSV, Parquet, JSON and JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from modelport.errors import ArtifactFormatError

SUFFIXES = (".csv", ".parquet", ".json", ".jsonl")


def read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ArtifactFormatError(f"input file {path} does not exist")
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        if suffix == ".json":
            data = json.loads(path.read_text())
            return pd.DataFrame(data)
    except (ValueError, OSError) as exc:
        raise ArtifactFormatError(f"cannot read {path}: {exc}") from exc
    raise ArtifactFormatError(f"unsupported file type {suffix!r} for {path}; use {', '.join(SUFFIXES)}")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    else:
        raise ArtifactFormatError(f"unsupported output type {suffix!r}; use {', '.join(SUFFIXES)}")
