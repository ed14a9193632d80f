"""Error semantics: 400 malformed, 422 naming every bad field, 404, 500 with a logged error id,
503 with Retry-After, 413 and 504; a bad request never fails another's batch."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelport.serving.service import ServedModel
from tests.data import numeric_classification
from tests.serving_apps import open_model, serving

pytestmark = pytest.mark.anyio

ROW = {"x1": 0.1, "x2": -0.2, "x3": 0.3, "x4": 1.0}


def _v2(row: dict[str, Any]) -> dict[str, Any]:
    return {"inputs": [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in row.items()]}


def _fields(answer: httpx.Response) -> dict[str, str]:
    return {p["field"]: p["problem"] for p in answer.json()["problems"]}


async def test_malformed_bodies_are_400_in_every_protocol(served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["numeric"])]) as (client, _):
        for path in ("/v2/models/numeric/infer", "/v1/models/numeric:predict", "/invocations"):
            answer = await client.post(path, content=b'{"inputs": [')
            assert answer.status_code == 400, (path, answer.text)
            assert "malformed JSON" in answer.json()["error"]
        structural = [
            {"inputs": "x1"},
            {"inputs": [{"name": "x1", "shape": [2], "datatype": "FP64", "data": [1.0]}]},
            {"inputs": [{"name": "x1", "shape": [1], "datatype": "FP128", "data": [1.0]}]},
            {"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": ["a"]}]},
        ]
        for body in structural:
            answer = await client.post("/v2/models/numeric/infer", json=body)
            assert answer.status_code == 400, (body, answer.text)
        assert (await client.post("/v1/models/numeric:predict", json={"rows": []})).status_code == 400
        assert (await client.post("/invocations", json={"data": []})).status_code == 400
        csv = await client.post("/invocations", content=b"", headers={"Content-Type": "text/csv"})
        assert csv.status_code == 400


async def test_signature_violations_are_422_naming_every_field(served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["credit"]), open_model(served_paths["numeric"])]
                       ) as (client, _):
        bad = _v2({"x1": 1.0, "x2": 2.0, "x9": 3.0})
        bad["inputs"].append({"name": "x3", "shape": [1], "datatype": "BYTES", "data": ["high"]})
        answer = await client.post("/v2/models/numeric/infer", json=bad)
        assert answer.status_code == 422, answer.text
        assert _fields(answer) == {"x4": "missing column", "x9": "unexpected column",
                                   "x3": "expected a number, got str 'high'"}

        wrong_width = {"inputs": [{"name": "t", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}
        answer = await client.post("/v2/models/numeric/infer", json=wrong_width)
        assert answer.status_code == 422
        assert "expected 4 columns" in answer.text

        outputs = {**_v2(ROW), "outputs": [{"name": "scores"}]}
        answer = await client.post("/v2/models/numeric/infer", json=outputs)
        assert answer.status_code == 422
        assert "outputs[0]" in _fields(answer)

        record = {"Seniority": 9, "Home": "castle", "Time": 60, "Age": "thirty", "Marital": "married",
                  "Records": "no", "Job": "freelance", "Expenses": 73, "Income": 129.0, "Assets": 0.0,
                  "Debt": 0.0, "Amount": 800, "Price": None}
        answer = await client.post("/v1/models/credit:predict", json={"instances": [record]})
        assert answer.status_code == 422, answer.text
        problems = _fields(answer)
        assert set(problems) == {"Home", "Age", "Price"}
        assert problems["Home"].startswith("unknown category 'castle'")
        assert problems["Price"] == "null where the column is not nullable"
        answer = await client.post("/invocations", json={"dataframe_records": [record]})
        assert answer.status_code == 422
        assert set(_fields(answer)) == {"Home", "Age", "Price"}


async def test_unknown_model_or_version_is_404(served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["numeric"])]) as (client, _):
        assert (await client.post("/v2/models/nope/infer", json=_v2(ROW))).status_code == 404
        assert (await client.post("/v2/models/numeric/versions/9/infer", json=_v2(ROW))).status_code == 404
        assert (await client.get("/v2/models/nope")).status_code == 404
        assert (await client.get("/v2/models/numeric/versions/9/ready")).status_code == 404
        assert (await client.post("/v1/models/nope:predict", json={"instances": [ROW]})).status_code == 404
        answer = await client.post("/invocations", json={"instances": [ROW]},
                                   headers={"Modelport-Model": "numeric:9"})
        assert answer.status_code == 404
        assert "no version '9'" in answer.json()["error"]


async def test_model_error_is_500_with_a_logged_id_and_spares_the_batch(
        served_paths: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    rows = numeric_classification(200, classes=3)[0].iloc[:30].to_dict("records")
    async with serving([open_model(served_paths["fragile"])], max_batch_delay_ms=50) as (client, _):
        with caplog.at_level(logging.ERROR, logger="modelport.inference"):
            answers = await asyncio.gather(*(
                client.post("/v1/models/fragile:predict", json={"instances": [r]})
                for r in [*rows[:15], {**ROW, "x1": 99.0}, *rows[15:]]))
    bad = answers[15]
    assert bad.status_code == 500, bad.text
    error_id = bad.json()["error_id"]
    assert error_id in bad.json()["error"]
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert [a.status_code for a in answers[:15] + answers[16:]] == [200] * 30


async def _running(served: ServedModel) -> None:
    while not served.batcher.running:
        await asyncio.sleep(0.005)


async def test_overload_is_503_with_retry_after(served_paths: dict[str, Path]) -> None:
    slow = {"instances": [{**ROW, "x2": 99.0}]}
    # the model thread (inline_below_ms=0): a slow call on the event loop would leave nobody to see it
    async with serving([open_model(served_paths["fragile"])], max_queue=1, retry_after_s=3,
                       inline_below_ms=0) as (
            client, service):
        first = asyncio.ensure_future(client.post("/v1/models/fragile:predict", json=slow))
        await asyncio.wait_for(_running(service.default()), 10)
        second = asyncio.ensure_future(client.post("/v1/models/fragile:predict", json={"instances": [ROW]}))
        while not service.default().batcher.queued:
            await asyncio.sleep(0.005)
        third = await client.post("/v1/models/fragile:predict", json={"instances": [ROW]})
        assert third.status_code == 503, third.text
        assert third.headers["retry-after"] == "3"
        assert "overloaded" in third.json()["error"]
        assert (await first).status_code == 200
        assert (await second).status_code == 200


async def test_deadline_is_504(served_paths: dict[str, Path]) -> None:
    slow = {"instances": [{**ROW, "x2": 99.0}]}
    async with serving([open_model(served_paths["fragile"])], request_timeout_s=0.1,
                       inline_below_ms=0) as (client, _):
        answer = await client.post("/v1/models/fragile:predict", json=slow)
        assert answer.status_code == 504, answer.text
        assert "no prediction within 0.1 s" in answer.json()["error"]


async def test_body_above_the_limit_is_413(served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["numeric"])], max_body_bytes=256) as (client, _):
        rows = [ROW] * 20
        for path, body in (("/v1/models/numeric:predict", {"instances": rows}),
                           ("/invocations", {"dataframe_records": rows}),
                           ("/v2/models/numeric/infer", _v2(ROW) | {"id": "x" * 300})):
            answer = await client.post(path, json=body)
            assert answer.status_code == 413, (path, answer.text)

        async def chunks() -> Any:  # no Content-Length: the limit holds while reading
            for _ in range(10):
                yield b'{"instances": [' + b" " * 100

        answer = await client.post("/v1/models/numeric:predict", content=chunks())
        assert answer.status_code == 413


async def test_prediction_routes_answer_only_post_and_other_routes_keep_their_methods(
        served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["numeric"])]) as (client, _):
        assert (await client.get("/v2/models/numeric/infer")).status_code == 405
        wrong_verb = await client.get("/v1/models/numeric:predict")
        assert (wrong_verb.status_code, wrong_verb.headers["allow"]) == (405, "POST")
        assert (await client.post("/v2/health/live")).status_code == 405
        assert (await client.post("/v2/models/numeric/infer/more", json={})).status_code == 404
        answer = await client.post("/v2/models/numeric/versions/nope/infer", json=_v2(ROW))
        assert answer.status_code == 404
        assert "no version 'nope'" in answer.json()["error"]
        served = await client.post("/v1/models/numeric:predict", json={"instances": [ROW]})
        assert served.status_code == 200
