"""Micro-batching through the app: many concurrent callers each get their own rows back, the
batch-size metric shows coalescing happened, and classifier predictions are counted by class."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest

from tests.data import numeric_classification
from tests.serving_apps import open_model, serving

pytestmark = pytest.mark.anyio


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:{{(.*)}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def test_concurrent_callers_get_their_own_rows_from_shared_batches(
        served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["numeric"])
    x = numeric_classification(200, classes=3)[0]
    expected = model.predict_detailed(x)
    callers = 120

    def rows_of(i: int) -> slice:
        start = i % 190
        return slice(start, start + 1 + i % 3)

    async with serving([model], max_batch_size=32) as (client, _):
        async def call(i: int) -> tuple[int, list[int], list[list[float]]]:
            rows = x.iloc[rows_of(i)]
            protocol = i % 3
            if protocol == 0:
                inputs = [{"name": c, "shape": [len(rows)], "datatype": "FP64", "data": rows[c].tolist()}
                          for c in rows]
                answer = await client.post("/v2/models/numeric/infer", json={"inputs": inputs})
                outputs = {o["name"]: o["data"] for o in answer.json()["outputs"]}
                return answer.status_code, outputs["prediction"], outputs["probabilities"]
            path = "/v1/models/numeric:predict" if protocol == 1 else "/invocations"
            answer = await client.post(path, json={"instances": rows.to_dict("records")})
            return answer.status_code, answer.json()["predictions"], []

        answers = await asyncio.gather(*(call(i) for i in range(callers)))
        lone = await call(0)
        metrics = (await client.get("/metrics")).text

    for i, (status, labels, probabilities) in enumerate([*answers, lone]):
        assert status == 200
        want = slice(rows_of(i).start, rows_of(i).stop) if i < callers else rows_of(0)
        assert labels == expected.values[want].tolist()
        if probabilities:
            np.testing.assert_allclose(np.reshape(probabilities, (-1, 3)), expected.probabilities[want])

    calls = _metric(metrics, "modelport_batch_size_count", model="numeric")
    coalesced = _metric(metrics, "modelport_batch_requests_sum", model="numeric")
    assert coalesced == callers + 1
    assert calls < callers  # several requests shared model calls
    assert _metric(metrics, "modelport_batch_size_bucket", model="numeric", le="32.0") == calls
    assert _metric(metrics, "modelport_queue_wait_seconds_count", model="numeric") == callers + 1
    rows_total = sum(len(range(200)[rows_of(i)]) for i in range(callers)) + 1
    assert _metric(metrics, "modelport_predictions_total", model="numeric") == rows_total
    assert _metric(metrics, "modelport_requests_total", model="numeric", status="2xx") == callers + 1
    assert _metric(metrics, "modelport_requests_total", protocol="mlflow") == callers // 3
    assert _metric(metrics, "modelport_in_flight_requests") == 0
    assert _metric(metrics, "modelport_process_resident_memory_bytes") > 0
    assert _metric(metrics, "modelport_request_duration_seconds_count", protocol="v2") == callers // 3 + 1
