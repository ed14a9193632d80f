"""The artifact commands through typer's runner: output, files written and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from typer.testing import CliRunner

from modelport.cli.main import app
from tests.data import credit

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    x, y = credit(800)
    cat = [c for c in x if x[c].dtype == object]
    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cat),
        remainder="passthrough")
    model = make_pipeline(encode, HistGradientBoostingClassifier(max_iter=20, random_state=0)).fit(x, y)
    sio.dump(model, root / "model.skops")
    x.assign(Status=y).to_csv(root / "train.csv", index=False)
    x.tail(5).to_json(root / "rows.jsonl", orient="records", lines=True)
    return {"root": root, "model": root / "model.skops", "train": root / "train.csv",
            "rows": root / "rows.jsonl"}


def _pack(files: dict[str, Path], out: Path) -> None:
    result = runner.invoke(app, ["pack", str(files["model"]), "--name", "credit", "--sample",
                                 str(files["train"]), "--label-column", "Status", "--out", str(out),
                                 "--tag", "team=risk", "--metric", "auc=0.81"])
    assert result.exit_code == 0, result.output


def test_pack_inspect_verify_predict(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "credit"
    _pack(files, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["lineage"]["tags"] == {"team": "risk"}
    assert manifest["lineage"]["metrics"] == {"auc": 0.81}
    assert "Status" not in [c["name"] for c in manifest["signature"]["inputs"]]

    inspected = runner.invoke(app, ["inspect", str(out), "--json"])
    assert inspected.exit_code == 0, inspected.output
    status = json.loads(inspected.output)
    assert (status["digests"], status["lock"], status["golden"]) == ("ok", "ok", "ok")
    assert runner.invoke(app, ["inspect", str(out)]).exit_code == 0

    verified = runner.invoke(app, ["verify", str(out)])
    assert verified.exit_code == 0
    assert "verified" in verified.output

    target = tmp_path / "pred.csv"
    predicted = runner.invoke(app, ["predict", str(out), str(files["rows"]), "--out", str(target)])
    assert predicted.exit_code == 0, predicted.output
    frame = pd.read_csv(target)
    assert list(frame.columns) == ["prediction", "proba_bad", "proba_good"]
    assert len(frame) == 5


def test_verify_fails_with_exit_4_on_tampering(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "credit"
    _pack(files, out)
    golden = out / "golden" / "outputs.json"
    golden.write_text(golden.read_text().replace("good", "bad", 1))
    result = runner.invoke(app, ["verify", str(out), "--json"])
    assert result.exit_code == 4
    assert json.loads(result.output)["digests"].startswith("FAILED")
    assert runner.invoke(app, ["predict", str(out), str(files["rows"])]).exit_code == 4


def test_bad_rows_exit_2_naming_every_field(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "credit"
    _pack(files, out)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"Seniority": "ten", "Home": "castle"}) + "\n")
    result = runner.invoke(app, ["predict", str(out), str(bad)])
    assert result.exit_code == 2
    assert "Seniority: expected an integer" in result.output
    assert "Home: unknown category 'castle'" in result.output
    assert "Age: missing column" in result.output


def test_pack_errors_are_clear(files: dict[str, Path], tmp_path: Path) -> None:
    missing = runner.invoke(app, ["pack", str(tmp_path / "nope.skops"), "--name", "x", "--sample",
                                  str(files["train"]), "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    bad_name = runner.invoke(app, ["pack", str(files["model"]), "--name", "../evil", "--sample",
                                   str(files["train"]), "--out", str(tmp_path / "y")])
    assert bad_name.exit_code == 2
    assert "invalid model name" in bad_name.output
    assert not (tmp_path / "y").exists()
