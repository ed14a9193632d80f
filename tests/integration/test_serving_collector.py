"""A started server hands what it loaded to ``core.collector`` before it takes requests."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from modelport.core.collector import YOUNG_THRESHOLD
from tests.serving_apps import open_model, serving


@pytest.mark.anyio
@pytest.mark.usefixtures("default_collector")
async def test_a_started_server_freezes_what_it_loaded_and_raises_the_young_threshold(
        served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["numeric"])]) as (client, _service):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        inputs = [{"name": name, "shape": [1], "datatype": "FP64", "data": [0.1]}
                  for name in ("x1", "x2", "x3", "x4")]
        answer = await client.post("/v2/models/numeric/infer", json={"inputs": inputs})
        assert answer.status_code == 200, answer.text
