"""A started server keeps the cyclic garbage collector out of the way of its requests: what it loaded is
frozen and a young pass waits for YOUNG_THRESHOLD allocations, not Python's 700."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelport.serving.http.app import YOUNG_THRESHOLD, quiet_collector
from tests.serving_apps import open_model, serving


@pytest.fixture
def default_thresholds() -> Iterator[None]:
    """Python's own thresholds for the test; whatever the process had before, afterwards."""
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


@pytest.mark.anyio
@pytest.mark.usefixtures("default_thresholds")
async def test_a_started_server_freezes_what_it_loaded_and_raises_the_young_threshold(
        served_paths: dict[str, Path]) -> None:
    async with serving([open_model(served_paths["numeric"])]) as (client, service):
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
        inputs = [{"name": name, "shape": [1], "datatype": "FP64", "data": [0.1]}
                  for name in ("x1", "x2", "x3", "x4")]
        answer = await client.post("/v2/models/numeric/infer", json={"inputs": inputs})
        assert answer.status_code == 200, answer.text
        assert service.default().ready


@pytest.mark.usefixtures("default_thresholds")
@pytest.mark.parametrize("young", [200_000, 0])
def test_a_higher_threshold_or_a_disabled_collector_stays_as_the_user_set_it(young: int) -> None:
    gc.set_threshold(young, 5, 7)
    quiet_collector()
    assert gc.get_threshold() == (young, 5, 7)


@pytest.mark.usefixtures("default_thresholds")
def test_the_older_generations_keep_their_thresholds() -> None:
    gc.set_threshold(1_000, 20, 30)
    quiet_collector()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 20, 30)
