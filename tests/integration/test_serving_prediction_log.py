"""The server records every prediction (ids returned in the body and a header), failures with their
status, and joins delayed labels posted to /v2/models/{name}/feedback."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from modelport.predictions import joined, read_predictions, read_resources
from modelport.serving.config import LogConfig
from tests.data import credit, numeric_classification
from tests.serving_apps import count_submits, open_model, serving
from tests.serving_processes import serve

pytestmark = pytest.mark.anyio

ROW = {"x1": 0.1, "x2": -0.2, "x3": 0.3, "x4": 1.0}


async def test_predictions_are_logged_with_their_ids_and_failures_with_their_status(
        served_paths: dict[str, Path], tmp_path: Path) -> None:
    log = LogConfig(str(tmp_path / "predictions"), flush_interval_s=0.05)
    model = open_model(served_paths["numeric"])
    async with serving([("numeric", "7", model)], log=log) as (client, _):
        v1 = await client.post("/v1/models/numeric:predict", json={"instances": [ROW, ROW]})
        tensor = {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP64",
                              "data": list(ROW.values())}]}
        v2 = await client.post("/v2/models/numeric/infer", json=tensor)
        mlflow = await client.post("/invocations", json={"dataframe_records": [ROW]})
        bad = await client.post("/v1/models/numeric:predict", json={"instances": [{"x1": "no"}]})
    assert [a.status_code for a in (v1, v2, mlflow, bad)] == [200, 200, 200, 422]
    ids = v1.json()["prediction_ids"]
    assert len(ids) == 2
    assert v1.headers["modelport-prediction-ids"] == ",".join(ids)
    v2_ids = v2.json()["parameters"]["prediction_ids"]
    ids += v2_ids + mlflow.json()["prediction_ids"]
    assert v2.headers["modelport-prediction-ids"] == v2_ids[0]
    # the ids header leaves a JSON answer JSON (it once made every logged v2 answer a binary one)
    assert {a.headers["content-type"] for a in (v1, v2, mlflow)} == {"application/json"}

    logged = read_predictions(log.root, "numeric")  # the lifespan's end closed the log: all written
    ok = logged[logged["status"] == 200]
    assert ok["id"].tolist() == ids
    assert set(ok["version"]) == {"7"}
    assert ok["protocol"].tolist() == ["v1", "v1", "v2", "mlflow"]
    assert ok["input.x2"].tolist() == [-0.2] * 4
    assert ok["prediction"].astype(int).tolist() == [int(model.predict([ROW])[0])] * 4
    assert (ok["latency_ms"] > 0).all()
    scores = ok[[c for c in ok if c.startswith("proba.")]]
    assert scores.shape[1] == 3  # every protocol's rows carry the scores monitoring needs
    assert scores.notna().all().all()
    failed = logged[logged["status"] != 200]
    assert failed["status"].tolist() == [422]
    assert failed["protocol"].tolist() == ["v1"]


async def test_feedback_posted_to_the_server_joins_its_predictions(
        served_paths: dict[str, Path], tmp_path: Path) -> None:
    log = LogConfig(str(tmp_path / "predictions"), flush_interval_s=60)  # the route flushes first
    async with serving([open_model(served_paths["numeric"])], log=log) as (client, _):
        answer = await client.post("/v1/models/numeric:predict", json={"instances": [ROW, ROW, ROW]})
        ids = answer.json()["prediction_ids"]
        first = await client.post("/v2/models/numeric/feedback", json={"id": ids[0], "label": 2})
        rest = await client.post("/v2/models/numeric/feedback", json={"feedback": [
            {"id": ids[1], "label": 0}, {"id": "0" * 32, "label": 1}]})
        bad = await client.post("/v2/models/numeric/feedback", json=[{"label": 1}])
        unknown_model = await client.post("/v2/models/nope/feedback", json={"id": ids[0], "label": 1})
    assert first.status_code == 200, first.text
    assert first.json()["joined"] == 1
    assert rest.json() | {"examples": None} == {"model": "numeric", "stored": 2, "joined": 1,
                                                "sampled_out": 0, "unknown": 1, "examples": None}
    assert rest.json()["examples"] == ["0" * 32]
    assert bad.status_code == 422
    assert "needs an id" in bad.text
    assert unknown_model.status_code == 404
    table = joined(log.root, "numeric").set_index("id")
    assert table.loc[ids[0], "label"] == 2
    assert table.loc[ids[1], "label"] == 0
    assert table["label"].isna().sum() == 1


async def test_a_shared_model_call_logs_each_caller_s_rows_under_the_ids_it_answered(
        served_paths: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = LogConfig(str(tmp_path / "predictions"), flush_interval_s=60)
    model = open_model(served_paths["numeric"])
    x = numeric_classification(200, classes=3)[0]
    expected = model.predict_detailed(x)
    submits = count_submits(monkeypatch)
    callers = 90

    async def call(client: httpx.AsyncClient, i: int) -> tuple[list[int], list[str]]:
        rows = list(range(i, i + 1 + i % 3))
        if i % 2:  # a numeric tensor: its batch is logged as one
            frame = x.iloc[rows]
            inputs = [{"name": "input", "shape": list(frame.shape), "datatype": "FP64",
                       "data": frame.to_numpy().ravel().tolist()}]
            answer = await client.post("/v2/models/numeric/infer", json={"inputs": inputs})
            return rows, answer.json()["parameters"]["prediction_ids"]
        answer = await client.post("/v1/models/numeric:predict",
                                   json={"instances": x.iloc[rows].to_dict("records")})
        return rows, answer.json()["prediction_ids"]

    async with serving([model], log=log, max_batch_size=32) as (client, _):
        answers = await asyncio.gather(*(call(client, i) for i in range(callers)))

    logged = read_predictions(log.root, "numeric").set_index("id")
    every = [row_id for _, ids in answers for row_id in ids]
    assert len(every) == len(set(every)) == len(logged)
    for rows, ids in answers:
        assert len(ids) == len(rows)
        got = logged.loc[ids]
        np.testing.assert_array_equal(got["input.x1"], x["x1"].iloc[rows])
        np.testing.assert_array_equal(got["input.x4"], x["x4"].iloc[rows])
        assert got["prediction"].astype(int).tolist() == expected.values[rows].tolist()
        np.testing.assert_allclose(got[["proba.0", "proba.1", "proba.2"]], expected.probabilities[rows])
    assert (logged["latency_ms"] > 0).all()
    assert set(logged["status"]) == {200}
    assert sorted(set(logged["protocol"])) == ["v1", "v2"]
    assert len(submits) < callers  # callers that shared a model call shared a log entry


async def test_mixed_type_requests_sharing_a_model_call_log_their_own_typed_values(
        served_paths: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = LogConfig(str(tmp_path / "predictions"), flush_interval_s=60)
    submits = count_submits(monkeypatch)
    model = open_model(served_paths["credit"])
    x = credit(60)[0]
    expected = model.predict_detailed(x)

    async def call(client: httpx.AsyncClient, i: int) -> list[str]:
        records = x.iloc[[i]].astype(object).where(x.iloc[[i]].notna(), None).to_dict("records")
        answer = await client.post("/v1/models/credit:predict", json={"instances": records})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["prediction_ids"])

    async with serving([model], log=log, max_batch_size=16) as (client, _):
        ids = await asyncio.gather(*(call(client, i) for i in range(len(x))))

    logged = read_predictions(log.root, "credit").set_index("id")
    got = logged.loc[[one for (one,) in ids]]
    assert got["prediction"].tolist() == expected.values.tolist()
    for column in x.columns:
        want = x[column].tolist()
        have = got[f"input.{column}"].tolist()
        assert [None if pd.isna(v) else v for v in have] == [None if pd.isna(v) else v for v in want], column
    assert len(submits) < len(x)  # validated as typed columns, logged a model call at a time


def test_sigterm_writes_every_acknowledged_prediction(served_paths: dict[str, Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_HOME", str(tmp_path / "home"))
    with serve("serve", str(served_paths["numeric"]), "--workers", "2",
               "--log-flush-interval", "30") as server:
        ids = []
        for _ in range(20):
            answer = httpx.post(f"{server.url}/v1/models/numeric:predict", json={"instances": [ROW]})
            ids += answer.json()["prediction_ids"]
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(60) == 0
    logged = read_predictions(tmp_path / "home" / "predictions", "numeric")
    assert sorted(logged["id"]) == sorted(ids)
    # each worker that logged predictions also sampled its CPU and memory into the log, at start and close
    samples = read_resources(tmp_path / "home" / "predictions", "numeric")
    assert 1 <= samples["pid"].nunique() <= 2
    assert server.process.pid not in set(samples["pid"])  # the workers, not the supervisor
    assert all(len(group) >= 2 for _, group in samples.groupby("pid"))
    assert (samples["rss_bytes"] > 2**20).all()
    assert (samples["cpu_seconds"] > 0).all()
