"""Inputs and artifacts shared by the batch tests, and a runner for ``modelport batch``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds
from typer.testing import CliRunner, Result

from modelport.cli.main import app
from tests.data import credit

runner = CliRunner()


def credit_rows(rows: int = 800) -> pd.DataFrame:
    """Credit rows with a ``key`` column; no missing category, which Arrow and pandas spell apart."""
    x, _ = credit(rows)
    x = x.dropna(subset=["Home", "Job"]).reset_index(drop=True)
    return x.assign(key=[f"k{i:05d}" for i in range(len(x))])


def write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return path


def batch(*args: object) -> Result:
    return runner.invoke(app, ["batch", *(str(a) for a in args)])


def summary(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def read_output(folder: Path) -> pd.DataFrame:
    return ds.dataset(folder, format="parquet").to_table().to_pandas()


def read_rejects(folder: Path) -> pd.DataFrame:
    return ds.dataset(folder / "_rejects", format="parquet").to_table().to_pandas()
