"""Scoring one chunk in process: predictions as LoadedModel gives them, bad rows aside with reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import Ridge

import modelport
from modelport.batch.inputs import Chunk
from modelport.batch.output import OutputFolder
from modelport.batch.scoring import ChunkScorer, ScoringSpec, parse_lines
from tests.artifacts import credit_artifact
from tests.data import credit, numeric_regression


@pytest.fixture(scope="module")
def credit_model(tmp_path_factory: pytest.TempPathFactory) -> modelport.LoadedModel:
    root = tmp_path_factory.mktemp("credit") / "credit"
    credit_artifact(root)
    return modelport.load(root)


def _spec(**options: object) -> ScoringSpec:
    base: dict[str, object] = {"artifact": "-", "output": "-", "format": "parquet",
                               "model_version": "credit:1", "run_id": "run"}
    return ScoringSpec(**(base | options))  # type: ignore[arg-type]


def _rows(rows: int = 60) -> pd.DataFrame:
    x, _ = credit(rows)
    return x.assign(key=[f"k{i}" for i in range(rows)])


def test_output_equals_loaded_model_predict(credit_model: modelport.LoadedModel) -> None:
    x = _rows()
    table = pa.Table.from_pandas(x)
    scorer = ChunkScorer(credit_model, _spec(id_column="key", keep_columns=("Age",)))
    output, rejects = scorer.score(Chunk(3, 300, len(x), table))
    assert rejects is None
    assert output is not None
    got = output.to_pandas()
    # the same rows as the chunk holds them (Arrow reads a missing string as None, not NaN)
    features = table.drop_columns(["key"])
    assert got.columns.tolist() == ["key", "Age", "prediction", "proba_bad", "proba_good",
                                    "model_version", "run_id"]
    assert got["key"].tolist() == x["key"].tolist()
    assert got["Age"].tolist() == x["Age"].tolist()
    assert got["prediction"].tolist() == credit_model.predict(features).tolist()
    np.testing.assert_array_equal(got[["proba_bad", "proba_good"]].to_numpy(),
                                  credit_model.predict_proba(features))
    assert set(got["model_version"]) == {"credit:1"}
    assert set(got["run_id"]) == {"run"}


def _lines(x: pd.DataFrame) -> bytes:
    return x.to_json(orient="records", lines=True).strip().encode()


def test_bad_rows_go_to_rejects_with_their_own_reason(credit_model: modelport.LoadedModel) -> None:
    clean = _rows().drop(columns=["key"])
    x = clean.astype({"Age": object, "Income": object})
    x.loc[4, "Age"] = "forty"
    x.loc[9, "Age"] = "fifty"
    x.loc[9, "Income"] = "lots"
    x.loc[20, "Marital"] = "complicated"
    x.loc[31, "Seniority"] = None
    output, rejects = ChunkScorer(credit_model, _spec(format="json")).score(
        Chunk(0, 1000, len(x), _lines(x)))
    assert output is not None
    assert rejects is not None
    found = {r["row"]: r for r in rejects.to_pylist()}
    assert sorted(found) == [1004, 1009, 1020, 1031]
    assert found[1004]["reason"] == "Age: expected an integer, got str 'forty'"
    assert found[1009]["reason"] == ("Age: expected an integer, got str 'fifty'; "
                                     "Income: expected a number, got str 'lots'")
    assert found[1020]["reason"].startswith("Marital: unknown category 'complicated' (known: [")
    assert found[1031]["reason"] == "Seniority: null where the column is not nullable"
    assert '"Age":"forty"' in found[1004]["input"]
    good = [i for i in range(len(x)) if i not in (4, 9, 20, 31)]
    assert output.column("row").to_pylist() == [1000 + i for i in good]
    expected = credit_model.predict(parse_lines(_lines(clean)).frame.iloc[good])
    assert output.column("prediction").to_pylist() == expected.tolist()


def test_arrow_rows_are_rejected_with_the_input_as_json(credit_model: modelport.LoadedModel) -> None:
    x = _rows(8).drop(columns=["key"])
    x.loc[2, "Marital"] = "complicated"
    output, rejects = ChunkScorer(credit_model, _spec()).score(Chunk(0, 0, 8, pa.Table.from_pandas(x)))
    assert output is not None
    assert output.num_rows == 7
    assert rejects is not None
    assert rejects.column("row").to_pylist() == [2]
    assert '"Marital": "complicated"' in rejects.column("input")[0].as_py()


def test_a_missing_column_rejects_every_row(credit_model: modelport.LoadedModel) -> None:
    x = _rows(5).drop(columns=["Price"])
    output, rejects = ChunkScorer(credit_model, _spec()).score(Chunk(0, 0, 5, pa.Table.from_pandas(x)))
    assert output is None
    assert rejects is not None
    assert set(rejects.column("reason").to_pylist()) == {"Price: missing column"}


def test_json_lines_reject_what_is_not_an_object(credit_model: modelport.LoadedModel) -> None:
    x = _rows(6)
    lines = _lines(x).split(b"\n")
    lines[1] = b"{not json"
    lines[4] = b'["a list"]'
    parsed = parse_lines(b"\n".join(lines))
    assert parsed.positions.tolist() == [0, 2, 3, 5]
    output, rejects = ChunkScorer(credit_model, _spec(format="json", id_column="key")).score(
        Chunk(0, 0, 6, b"\n".join(lines)))
    assert output is not None
    assert rejects is not None
    assert output.column("key").to_pylist() == ["k0", "k2", "k3", "k5"]
    assert rejects.column("row").to_pylist() == [1, 4]
    assert rejects.column("key").to_pylist() == [None, None]
    assert rejects.column("input").to_pylist() == ["{not json", '["a list"]']
    assert rejects.column("reason").to_pylist()[1] == "<line>: expected a JSON object, got list"


def test_a_regressor_writes_numbers_and_no_probabilities(tmp_path: Path) -> None:
    x, y = numeric_regression(80)
    modelport.pack(Ridge().fit(x, y), name="ridge", sample=x, target=y, out=tmp_path / "ridge")
    model = modelport.load(tmp_path / "ridge")
    (tmp_path / "out" / "_rejects").mkdir(parents=True)
    table = pa.Table.from_pandas(x)
    result = ChunkScorer(model, _spec()).write(Chunk(7, 70, len(x), table), OutputFolder(tmp_path / "out"))
    assert (result.rows, result.scored, result.rejected, result.rejects_part) == (80, 80, 0, None)
    written = pd.read_parquet(tmp_path / "out" / "part-000007.parquet")
    assert written.columns.tolist() == ["row", "prediction", "model_version", "run_id"]
    np.testing.assert_array_equal(written["prediction"], model.predict(table))
