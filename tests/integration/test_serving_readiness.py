"""Readiness: a version is ready only after its golden check passed here and a warm-up answered;
one that fails its golden check is never ready and never gets traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts import golden_mismatch
from tests.serving_apps import open_model, serving

pytestmark = pytest.mark.anyio

ROW = {"x1": 0.1, "x2": -0.2, "x3": 0.3, "x4": 1.0}



async def test_golden_check_failure_keeps_a_model_out_of_traffic(
        served_paths: dict[str, Path], tmp_path: Path) -> None:
    tampered = open_model(golden_mismatch(served_paths["numeric"], tmp_path / "tampered"))
    good = open_model(served_paths["regressor"])
    async with serving([("numeric", "2", tampered), ("regressor", "1", good)], retry_after_s=5) as (
            client, service):
        assert not service.get("numeric").ready
        assert "golden check failed on rows [2]" in service.get("numeric").reason

        for probe in ("/readyz", "/v2/health/ready", "/ping", "/health"):
            assert (await client.get(probe)).status_code == 503, probe
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/v2/health/live")).status_code == 200

        ready = await client.get("/v2/models/numeric/versions/2/ready")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False
        assert "golden check failed" in ready.json()["reason"]
        assert (await client.get("/v2/models/regressor/ready")).status_code == 200
        assert (await client.get("/v1/models/numeric")).status_code == 503

        for path, body in (("/v1/models/numeric:predict", {"instances": [ROW]}),
                           ("/invocations", {"instances": [ROW]})):
            answer = await client.post(path, json=body)
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "5"
            assert "not ready" in answer.json()["error"]
        served = await client.post("/v1/models/regressor:predict", json={"instances": [ROW]})
        assert served.status_code == 200, served.text


async def test_ready_only_after_start_and_not_after_stop(served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["numeric"])]) as (_client, service):
        served = service.default()
        assert served.ready
        assert served.reason == "ready"
    assert not served.ready


async def test_a_stalled_model_call_makes_the_process_not_live(served_paths: dict[str, Path]) -> None:
    import asyncio

    slow = {"x1": 0.1, "x2": 60.0, "x3": 0.3, "x4": 1.0}  # the fragile model sleeps a second
    async with serving([open_model(served_paths["fragile"])], stall_timeout_s=0.2,
                       inline_below_ms=0) as (client, _):
        assert (await client.get("/healthz")).status_code == 200
        pending = asyncio.ensure_future(client.post("/v1/models/fragile:predict", json={"instances": [slow]}))
        for _ in range(200):
            live = await client.get("/healthz")
            if live.status_code == 503:
                break
            await asyncio.sleep(0.02)
        assert live.status_code == 503
        assert "model fragile:" in live.json()["reasons"][0]
        assert (await client.get("/v2/health/live")).status_code == 503
        assert (await pending).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/v2/health/live")).json() == {"live": True}
