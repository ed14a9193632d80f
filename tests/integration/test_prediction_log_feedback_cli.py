"""``modelport feedback NAME FILE``: labels from CSV or Parquet joined to the log, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from modelport.cli.main import app
from modelport.predictions import PredictionLog, joined
from modelport.settings import Settings
from tests.unit.predictions.helpers import classified

runner = CliRunner()
WHEN = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def logged() -> list[str]:
    """Ids of four predictions of ``credit`` in the log the environment configures."""
    with PredictionLog(Settings.from_env().predictions, flush_interval_s=3600) as log:
        return log.submit(classified(4, time=WHEN))


def test_labels_from_csv_are_joined_and_unknown_ids_counted(logged: list[str], tmp_path: Path) -> None:
    file = tmp_path / "labels.csv"
    pd.DataFrame({"prediction_id": [*logged[:3], "0123", "nope"],
                  "truth": ["good", "bad", "good", "bad", "bad"]}).to_csv(file, index=False)
    result = runner.invoke(app, ["feedback", "credit", str(file), "--id-column", "prediction_id",
                                 "--label-column", "truth"])
    assert result.exit_code == 0, result.output
    assert "stored 5 feedback rows for credit: 3 joined" in result.output
    assert "2 unknown (e.g. 0123, nope)" in result.output
    frame = joined(Settings.from_env().predictions, "credit", labelled_only=True)
    assert frame["label"].tolist() == ["good", "bad", "good"]


def test_outcomes_from_parquet_with_default_columns_and_json(logged: list[str], tmp_path: Path) -> None:
    file = tmp_path / "outcomes.parquet"
    pd.DataFrame({"id": logged, "outcome": [10.0, 0.0, 5.5, 1.0]}).to_parquet(file)
    result = runner.invoke(app, ["feedback", "credit", str(file), "--json"])
    assert result.exit_code == 0, result.output
    receipt = json.loads(result.output)
    assert (receipt["stored"], receipt["joined"], receipt["unknown"], receipt["examples"]) == (4, 4, 0, [])
    assert joined(Settings.from_env().predictions, "credit")["outcome"].tolist() == [10.0, 0.0, 5.5, 1.0]


@pytest.mark.parametrize(("columns", "args", "message"), [
    ({"id": ["a"], "label": ["x"]}, ["--id-column", "pid"],
     "pid: no such column (columns in f.csv: id, label)"),
    ({"id": ["a"], "label": ["x"]}, ["--label-column", "truth"], "truth: no such column"),
    ({"id": ["a"], "score": [1]}, [], "no label or outcome column: pass --label-column or --outcome-column"),
    ({"id": ["a", "b"], "label": ["x", None]}, [], "label: missing: a feedback row needs a value (rows 1)"),
    ({"key": ["a", None], "y": ["x", "y"]}, ["--id-column", "key", "--label-column", "y"],
     "key: must be a non-empty prediction id (rows 1)"),
])
def test_bad_files_name_the_column_and_exit_2(tmp_path: Path, columns: dict[str, list[object]],
                                              args: list[str], message: str) -> None:
    file = tmp_path / "f.csv"
    pd.DataFrame(columns).to_csv(file, index=False)
    result = runner.invoke(app, ["feedback", "credit", str(file), *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (Settings.from_env().predictions / "feedback").exists()


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "labels.json"
    file.write_text("[]")
    result = runner.invoke(app, ["feedback", "credit", str(file)])
    assert result.exit_code == 2
    assert "must be a .csv or .parquet file" in " ".join(result.output.split())


def test_a_bad_model_name_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "labels.csv"
    pd.DataFrame({"id": ["a"], "label": [1]}).to_csv(file, index=False)
    result = runner.invoke(app, ["feedback", "../up", str(file)])
    assert result.exit_code == 2
    assert "is not a model name" in " ".join(result.output.split())
