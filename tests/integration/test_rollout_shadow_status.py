"""A shadow copy that fails is logged with the status its failure deserves, linked to the primary's rows:
a 4xx when the shadow refused the input (its signature differs), a 500 when the shadow itself broke."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

import modelport
from modelport.predictions.reader import read_predictions
from modelport.promotion import compare_shadow
from modelport.rollout.plan import EndpointPlan
from modelport.serving.config import LogConfig
from tests.data import numeric_classification
from tests.rollout_models import BREAKS, ROW
from tests.serving_apps import FRAGILE, open_model, serving

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """numbers (x1-x4), wider (x1-x5: a copy without x5 is refused) and fragile (raises on x1 > 50)."""
    root = tmp_path_factory.mktemp("shadow-status")
    x, y = numeric_classification(200, classes=3)
    wide = x.assign(x5=x["x1"] * 2)
    (root / "fragile.py").write_text(FRAGILE)
    packed = {
        "numbers": modelport.pack(LogisticRegression().fit(x, y), name="numbers", sample=x, target=y,
                                  out=root / "numbers"),
        "wider": modelport.pack(LogisticRegression().fit(wide, y), name="wider", sample=wide, target=y,
                                out=root / "wider"),
        "fragile": modelport.pack(LogisticRegression().fit(x, y), name="fragile", sample=x, target=y,
                                  preprocess=root / "fragile.py", out=root / "fragile"),
    }
    return {name: artifact.path for name, artifact in packed.items()}


async def test_a_failed_shadow_copy_is_logged_with_its_real_status_and_linked(
        models: dict[str, Path], tmp_path: Path) -> None:
    loaded = [(name, "1", open_model(path)) for name, path in models.items()]
    log = LogConfig(str(tmp_path / "predictions"), flush_interval_s=0.1)
    async with serving(loaded, log=log) as (client, service):
        plan = EndpointPlan("scoring", "numbers:1", shadows=("wider:1", "fragile:1"))
        service.deployments.set(plan, {ref: ref for ref in plan.refs()})
        rows = [ROW, ROW, BREAKS]
        for row in rows:
            answer = await client.post("/v1/models/scoring:predict", json={"instances": [row]})
            assert answer.status_code == 200, answer.text
        for _ in range(200):
            if sum(service.shadows.counts.values()) == 2 * len(rows):
                break
            await asyncio.sleep(0.05)
        assert service.shadows.counts == {"answered": 2, "failed": 4, "dropped": 0}
    frames = {name: read_predictions(tmp_path / "predictions", name) for name in models}
    ids = frames["numbers"].sort_values("time")["id"].tolist()
    statuses = {(name, row_id): int(status) for name in ("wider", "fragile")
                for row_id, status in frames[name][["primary_id", "status"]].itertuples(index=False)}
    assert {len(frames[name]) for name in ("wider", "fragile")} == {len(rows)}
    # every copy of the wider model lacked x5: the caller's kind of error (422), not a crash
    assert [statuses[("wider", i)] for i in ids] == [422, 422, 422]
    # the fragile model answered the good rows and broke on x1 > 50: its own fault (500)
    assert [statuses[("fragile", i)] for i in ids] == [200, 200, 500]
    # so the comparison counts each failed copy once, and none of them as lost
    wider = compare_shadow(frames["numbers"], frames["wider"])
    assert (wider.pairs, wider.shadow_failures, wider.missing_shadow) == (0, 3, 0)
    fragile = compare_shadow(frames["numbers"], frames["fragile"])
    assert (fragile.pairs, fragile.shadow_failures, fragile.missing_shadow) == (2, 1, 0)
