"""``modelport batch`` on the local engine: formats, rejects, the reject budget, bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import modelport
from modelport.batch.output import JOURNAL, SUMMARY
from tests.artifacts import small_classifier
from tests.data import numeric_classification
from tests.integration.batch_files import batch, credit_rows, read_output, read_rejects, summary, write


@pytest.fixture(scope="module")
def small_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small") / "small"
    small_classifier(root)
    return root


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_each_format_scores_as_loaded_model_predicts(credit_path: Path, tmp_path: Path, suffix: str) -> None:
    x = credit_rows()
    source = write(x, tmp_path / f"in{suffix}")
    result = summary(batch(credit_path, source, tmp_path / "out", "--chunk-rows", 128, "--workers", 1,
                           "--id-column", "key", "--keep-columns", "Age,Income", "--json"))
    assert (result["rows"], result["rejected"], result["chunks"]) == (len(x), 0, -(-len(x) // 128))
    out = read_output(tmp_path / "out").sort_values("key").reset_index(drop=True)
    assert out.columns.tolist() == ["key", "Age", "Income", "prediction", "proba_bad", "proba_good",
                                    "model_version", "run_id"]
    assert out["key"].tolist() == x["key"].tolist()
    pd.testing.assert_series_equal(out["Income"], x["Income"], check_names=False)
    model = modelport.load(credit_path)
    features = x.drop(columns=["key"])
    assert out["prediction"].tolist() == model.predict(features).tolist()
    np.testing.assert_allclose(out[["proba_bad", "proba_good"]], model.predict_proba(features),
                               rtol=1e-12, atol=0)
    assert out["run_id"].nunique() == 1
    assert out["run_id"][0] == result["run_id"]
    assert set(out["model_version"]) == {f"credit@{model.digest[:12]}"}


def test_a_glob_of_files_is_one_input_in_order(small_path: Path, tmp_path: Path) -> None:
    x, _ = numeric_classification(3000, seed=5)
    for i, (start, rows) in enumerate(((0, 1000), (1000, 700), (1700, 1300))):
        write(x.iloc[start:start + rows], tmp_path / "in" / f"part{i}.parquet")
    result = summary(batch(small_path, tmp_path / "in" / "part*.parquet", tmp_path / "out",
                           "--chunk-rows", 256, "--workers", 2, "--json"))
    assert result["rows"] == 3000
    got = read_output(tmp_path / "out").sort_values("row")
    assert got["row"].tolist() == list(range(3000))
    model = modelport.load(small_path)
    np.testing.assert_allclose(got[["proba_0", "proba_1"]], model.predict_proba(x), rtol=1e-12)


def _with_bad_rows(every: int) -> pd.DataFrame:
    x = credit_rows().astype({"Age": object})
    for i in range(0, len(x), every):
        x.loc[i, "Age"] = f"age {i}"
    return x


def test_bad_rows_are_rejected_with_reasons_and_the_rest_scored(credit_path: Path, tmp_path: Path) -> None:
    x = _with_bad_rows(every=20)
    source = write(x, tmp_path / "in.jsonl")
    result = summary(batch(credit_path, source, tmp_path / "out", "--chunk-rows", 200, "--workers", 1,
                           "--id-column", "key", "--max-reject-rate", 0.1, "--json"))
    bad = list(range(0, len(x), 20))
    assert (result["rows"], result["rejected"], result["scored"]) == (len(x), len(bad), len(x) - len(bad))
    rejects = read_rejects(tmp_path / "out").sort_values("row")
    assert rejects["row"].tolist() == bad
    assert rejects["key"].tolist() == x["key"][bad].tolist()
    assert rejects["reason"].tolist() == [f"Age: expected an integer, got str 'age {i}'" for i in bad]
    assert [json.loads(raw)["Age"] for raw in rejects["input"]] == [f"age {i}" for i in bad]
    out = read_output(tmp_path / "out")
    assert sorted([*out["key"], *rejects["key"]]) == x["key"].tolist()


def test_too_many_rejects_fail_the_run_after_scoring_it(credit_path: Path, tmp_path: Path) -> None:
    source = write(_with_bad_rows(every=20), tmp_path / "in.csv")
    result = batch(credit_path, source, tmp_path / "out", "--chunk-rows", 200, "--workers", 1,
                   "--max-reject-rate", 0.01)
    assert result.exit_code == 10, result.output
    assert "RejectRateError" in result.output
    assert "more than the allowed 1.00%" in result.output
    stored = json.loads((tmp_path / "out" / SUMMARY).read_text())
    assert stored["rejected"] == len(range(0, len(credit_rows()), 20))


def test_parquet_fails_as_soon_as_the_rejects_exceed_the_budget_of_the_whole_input(
        credit_path: Path, tmp_path: Path) -> None:
    x = pd.concat([credit_rows()] * 4, ignore_index=True).astype({"Seniority": float})
    x.loc[:99, "Seniority"] = np.nan  # not nullable: 100 rejects in the first chunk, of 3000+ rows
    source = write(x, tmp_path / "in.parquet")
    result = batch(credit_path, source, tmp_path / "out", "--chunk-rows", 100, "--workers", 1,
                   "--max-reject-rate", 0.02)
    assert result.exit_code == 10, result.output
    assert not (tmp_path / "out" / SUMMARY).exists()
    finished = (tmp_path / "out" / JOURNAL).read_text().splitlines()
    assert len(finished) < len(x) // 100


def test_memory_stays_bounded_on_an_input_many_chunks_long(small_path: Path, tmp_path: Path) -> None:
    x, _ = numeric_classification(60_000, seed=2)
    source = write(x, tmp_path / "in.parquet")
    result = summary(batch(small_path, source, tmp_path / "out", "--chunk-rows", 1000, "--workers", 2,
                           "--json"))
    assert result["chunks"] == 60
    # the workers' queues hold at most two chunks each; the input is thirty times that
    assert 1 <= result["peak_chunks_in_flight"] <= 4
    assert result["peak_chunks_in_flight"] * 1000 < len(x) / 10
    got = read_output(tmp_path / "out")
    assert sorted(got["row"]) == list(range(60_000))


def test_a_registry_ref_is_resolved_and_written_beside_each_row(small_path: Path, tmp_path: Path) -> None:
    with modelport.open_registry() as registry:
        registry.register(small_path, name="small")
    x, _ = numeric_classification(50, seed=1)
    result = summary(batch("small@latest", write(x, tmp_path / "in.parquet"), tmp_path / "out",
                           "--workers", 1, "--json"))
    assert result["rows"] == 50
    assert set(read_output(tmp_path / "out")["model_version"]) == {"small:1"}
    missing = batch("nosuch@production", tmp_path / "in.parquet", tmp_path / "out2")
    assert missing.exit_code == 3, missing.output


def test_a_finished_run_is_not_redone_and_a_changed_input_not_resumed(small_path: Path,
                                                                      tmp_path: Path) -> None:
    x, _ = numeric_classification(500, seed=1)
    source = write(x, tmp_path / "in.parquet")
    first = summary(batch(small_path, source, tmp_path / "out", "--chunk-rows", 100, "--workers", 1,
                          "--json"))
    again = batch(small_path, source, tmp_path / "out", "--workers", 1)
    assert again.exit_code == 9
    assert "pass --resume" in again.output
    resumed = summary(batch(small_path, source, tmp_path / "out", "--chunk-rows", 100, "--resume", "--json"))
    assert resumed == first
    write(x.iloc[:400], source)
    changed = batch(small_path, source, tmp_path / "out", "--chunk-rows", 100, "--resume")
    assert changed.exit_code == 9
    assert "input differ" in changed.output


def test_bad_requests_are_refused_before_scoring(credit_path: Path, tmp_path: Path) -> None:
    x = credit_rows(50)
    source = write(x, tmp_path / "in.parquet")
    missing = write(x.drop(columns=["Price"]), tmp_path / "missing.parquet")
    cases = [
        ((source, tmp_path / "o1", "--id-column", "nope"), 9, "no column 'nope'"),
        ((source, tmp_path / "o2", "--keep-columns", "prediction"), 9, "clash"),
        ((missing, tmp_path / "o3"), 2, "Price: missing column"),
        ((tmp_path / "none.parquet", tmp_path / "o4"), 9, "no input files"),
        ((source, tmp_path / "o5", "--engine", "yarn"), 2, "unknown engine"),
        ((source, tmp_path / "o6", "--max-reject-rate", 2), 2, "max_reject_rate"),
    ]
    for args, code, message in cases:
        result = batch(credit_path, *args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, result.output


@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_computing_on_openmp_threads_is_scored_by_forked_workers(tmp_path: Path,
                                                                         workers: int) -> None:
    # HistGradientBoosting predicts on an OpenMP thread team: one started in the pool's parent (by
    # the golden check) before it forks the workers would leave them waiting forever
    x, y = numeric_classification(400, seed=3)
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y)
    modelport.pack(model, name="boosted", sample=x, target=y, out=tmp_path / "boosted")
    rows, _ = numeric_classification(20_000, seed=4)
    source = write(rows, tmp_path / "in.parquet")
    command = [sys.executable, "-m", "modelport", "batch", str(tmp_path / "boosted"), str(source),
               str(tmp_path / "out"), "--workers", str(workers), "--chunk-rows", "2000",
               "--no-log-predictions", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env={
        **os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 20_000
    got = read_output(tmp_path / "out").sort_values("row")
    expected = modelport.load(tmp_path / "boosted").predict(rows)
    assert (got["prediction"].to_numpy() == expected).all()
