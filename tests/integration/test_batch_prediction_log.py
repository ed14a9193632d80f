"""``modelport batch`` writes its scored rows to the prediction log: ids feedback joins by, sampling, off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

import modelport
from modelport.cli.main import app
from modelport.predictions import read_predictions, sampled_in
from modelport.settings import Settings
from tests.data import credit
from tests.integration.batch_files import batch, read_output, summary, write

runner = CliRunner()


def _labelled(rows: int = 600) -> tuple[pd.DataFrame, pd.Series]:
    x, y = credit(rows)
    known = x[["Home", "Job"]].notna().all(axis=1).to_numpy()
    x, y = x[known].reset_index(drop=True), pd.Series(np.asarray(y)[known])
    return x.assign(key=[f"k{i:05d}" for i in range(len(x))]), y


def test_scored_rows_are_logged_with_ids_that_feedback_and_the_report_join_by(
        credit_path: Path, tmp_path: Path) -> None:
    x, y = _labelled()
    bad = x.astype({"Age": object})
    bad.loc[[7, 70], "Age"] = "old"
    source = write(bad, tmp_path / "in.jsonl")
    result = summary(batch(credit_path, source, tmp_path / "out", "--chunk-rows", 128, "--workers", 2,
                           "--max-reject-rate", 0.05, "--json"))
    assert (result["rows"], result["rejected"]) == (len(x), 2)
    run_id = result["run_id"]

    logged = read_predictions(Settings.from_env().predictions, "credit").sort_values("id")
    out = read_output(tmp_path / "out")
    assert len(logged) == len(out) == len(x) - 2
    assert set(logged["id"]) == {f"{run_id}-{row}" for row in out["row"]}
    assert set(logged["role"]) == {"batch"}
    assert set(logged["version"]) == {modelport.load(credit_path).digest[:12]}
    by_id = out.assign(id=[f"{run_id}-{row}" for row in out["row"]]).sort_values("id")
    assert logged["prediction"].tolist() == by_id["prediction"].tolist()
    np.testing.assert_array_equal(logged[["proba.bad", "proba.good"]], by_id[["proba_bad", "proba_good"]])
    assert logged["input.Age"].tolist() == x["Age"].iloc[by_id["row"]].astype(float).tolist()

    labels = pd.DataFrame({"id": [f"{run_id}-{row}" for row in range(len(x))], "label": y})
    labels.to_csv(tmp_path / "labels.csv", index=False)
    fed = runner.invoke(app, ["feedback", "credit", str(tmp_path / "labels.csv"), "--json"])
    assert fed.exit_code == 0, fed.output
    receipt = json.loads(fed.stdout)
    assert (receipt["joined"], receipt["unknown"]) == (len(x) - 2, 2)  # the rejected rows are not logged

    report = runner.invoke(app, ["monitor", "report", "credit", "--ref", str(credit_path), "--since", "2d",
                                 "--json", "--no-importance"])
    assert report.exit_code in (0, 8), report.output
    span = json.loads(report.stdout)["overall"]["span"]
    assert (span["requests"], span["labelled"]) == (len(x) - 2, len(x) - 2)


def test_the_log_keeps_the_rows_whose_id_the_sample_rate_keeps(credit_path: Path, tmp_path: Path) -> None:
    x, _ = _labelled()
    source = write(x, tmp_path / "in.parquet")
    result = summary(batch(credit_path, source, tmp_path / "out", "--chunk-rows", 100, "--workers", 1,
                           "--id-column", "key", "--log-sample-rate", 0.3, "--json"))
    logged = read_predictions(Settings.from_env().predictions, "credit")
    every = [f"{result['run_id']}-{key}" for key in x["key"]]
    kept = sorted(i for i in every if sampled_in(i, 0.3))
    assert 0 < len(kept) < len(x)
    assert sorted(logged["id"]) == kept
    assert set(logged["sample_rate"]) == {0.3}


def test_no_log_predictions_logs_nothing(credit_path: Path, tmp_path: Path) -> None:
    source = write(_labelled(100)[0], tmp_path / "in.parquet")
    summary(batch(credit_path, source, tmp_path / "out", "--workers", 1, "--no-log-predictions", "--json"))
    assert len(read_output(tmp_path / "out")) > 0
    assert read_predictions(Settings.from_env().predictions, "credit").empty
    assert not Settings.from_env().predictions.exists()


def test_a_resume_with_another_sample_rate_is_refused(credit_path: Path, tmp_path: Path) -> None:
    source = write(_labelled(100)[0], tmp_path / "in.parquet")
    summary(batch(credit_path, source, tmp_path / "out", "--workers", 1, "--json"))
    again = batch(credit_path, source, tmp_path / "out", "--workers", 1, "--resume", "--log-sample-rate", 0.5)
    assert again.exit_code == 9
    assert "options differ" in again.output
