"""The spark engine (pyspark in local mode, mapInArrow) writes what the local engine writes, resumes too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.batch.output import JOURNAL, SUMMARY
from modelport.predictions import read_predictions
from modelport.settings import Settings
from tests.integration.batch_files import batch, credit_rows, read_output, read_rejects, summary, write
from tests.spark_sessions import local_session

pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module", autouse=True)
def spark() -> Iterator[Any]:
    """One session for the module (its JVM stopped after); the engine runs on the active session."""
    yield from local_session("modelport batch tests")


def _both(model: Path, source: Path, out: Path, *options: object) -> tuple[dict[str, Any], dict[str, Any]]:
    local = summary(batch(model, source, out / "local", "--workers", 1, "--json", *options))
    spark = summary(batch(model, source, out / "spark", "--engine", "spark", "--json", *options))
    return local, spark


def _same(out: Path, key: str) -> None:
    local = read_output(out / "local").drop(columns=["run_id"]).sort_values(key).reset_index(drop=True)
    spark = read_output(out / "spark").drop(columns=["run_id"]).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(local, spark)
    rejects = [read_rejects(out / e).sort_values("row").reset_index(drop=True) for e in ("local", "spark")]
    pd.testing.assert_frame_equal(*rejects)


def test_parquet_files_give_identical_outputs_and_rejects(credit_path: Path, tmp_path: Path) -> None:
    x = credit_rows().astype({"Seniority": float})
    x.loc[[5, 400], "Seniority"] = np.nan
    x.loc[[17, 321], "Marital"] = "complicated"
    for i, (start, end) in enumerate(((0, 250), (250, 500), (500, len(x)))):
        write(x.iloc[start:end], tmp_path / "in" / f"part{i}.parquet")
    local, spark = _both(credit_path, tmp_path / "in", tmp_path / "out", "--chunk-rows", 100,
                         "--keep-columns", "Age,Home", "--max-reject-rate", 0.05)
    assert (spark["rows"], spark["rejected"]) == (local["rows"], local["rejected"]) == (len(x), 4)
    _same(tmp_path / "out", "row")
    assert read_rejects(tmp_path / "out" / "spark")["row"].tolist() == [5, 17, 321, 400]
    assert (tmp_path / "out" / "spark" / SUMMARY).exists()
    _same_log(local["run_id"], spark["run_id"], len(x) - 4)


def _same_log(local_run: str, spark_run: str, rows: int) -> None:
    """Each engine logged every scored row once, under the same row ids and with the same values."""
    logged = read_predictions(Settings.from_env().predictions, "credit")
    runs = []
    for run in (local_run, spark_run):
        part = logged[logged["id"].str.startswith(f"{run}-")]
        part = part.assign(id=part["id"].str.removeprefix(f"{run}-")).sort_values("id")
        runs.append(part.drop(columns=["time", "latency_ms"]).reset_index(drop=True))
    assert len(runs[0]) == rows
    pd.testing.assert_frame_equal(*runs)


def test_json_lines_give_identical_outputs_and_rejects(credit_path: Path, tmp_path: Path) -> None:
    x = credit_rows(300).astype({"Age": object})
    x.loc[[3, 99], "Age"] = "old"
    lines = x.to_json(orient="records", lines=True).splitlines()
    lines[50] = "{broken"
    lines.insert(120, "")
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    local, spark = _both(credit_path, tmp_path / "in.jsonl", tmp_path / "out", "--chunk-rows", 64,
                         "--id-column", "key", "--max-reject-rate", 0.05)
    assert (spark["rows"], spark["rejected"]) == (local["rows"], local["rejected"]) == (len(x), 3)
    _same(tmp_path / "out", "key")


def test_csv_files_give_identical_outputs_and_rejects(credit_path: Path, tmp_path: Path) -> None:
    x = credit_rows(700).astype({"Age": object})
    x.loc[[3, 450], "Age"] = "old"
    x.loc[[10], "Marital"] = "complicated"
    for i, (start, end) in enumerate(((0, 300), (300, 310), (310, len(x)))):
        write(x.iloc[start:end], tmp_path / "in" / f"part{i}.csv")
    local, spark = _both(credit_path, tmp_path / "in", tmp_path / "out", "--chunk-rows", 128,
                         "--keep-columns", "Age,Home", "--max-reject-rate", 0.05)
    assert (spark["rows"], spark["rejected"]) == (local["rows"], local["rejected"]) == (len(x), 3)
    _same(tmp_path / "out", "row")
    _same_log(local["run_id"], spark["run_id"], len(x) - 3)


def test_a_stopped_spark_run_resumes_with_every_row_exactly_once(credit_path: Path, tmp_path: Path) -> None:
    x = credit_rows()
    x.loc[[120, 600], "Marital"] = "complicated"
    for i, (start, end) in enumerate(((0, 350), (350, len(x)))):
        write(x.iloc[start:end], tmp_path / "in" / f"part{i}.parquet")
    local, spark = _both(credit_path, tmp_path / "in", tmp_path / "out", "--chunk-rows", 100,
                         "--max-reject-rate", 0.05)
    # as if stopped after two chunks: the journal holds them, the other parts stay unrecorded
    out = tmp_path / "out" / "spark"
    (out / SUMMARY).unlink()
    journal = out / JOURNAL
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:2]))
    resumed = summary(batch(credit_path, tmp_path / "in", out, "--engine", "spark", "--chunk-rows", 100,
                            "--max-reject-rate", 0.05, "--resume", "--json"))
    assert (resumed["rows"], resumed["rejected"], resumed["resumed_chunks"], resumed["run_id"]) == \
        (len(x), 2, 2, spark["run_id"])
    _same(tmp_path / "out", "row")
    _same_log(local["run_id"], spark["run_id"], len(x) - 2)
