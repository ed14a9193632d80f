"""Shadows and canaries in a real server: a failing or slow shadow changes nothing for the caller and
its rows link to the primary's; the promotion loop promotes a good canary and rolls back a broken one."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from modelport.predictions.reader import read_predictions
from modelport.settings import Settings
from tests.rollout_models import BREAKS, ROW, SLOWS, TOKEN, admin, config, pack_versions, register
from tests.serving_processes import serve, wait_until

SHADOWED = """
endpoints:
  scoring: {primary: 'numbers:1', shadows: ['numbers:3']}
shadow_queue: 2
canary_tick: 0
log_flush_interval: 0.2
"""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return pack_versions(tmp_path_factory.mktemp("numbers"))


def _post(url: str, row: dict[str, float], endpoint: str = "scoring") -> httpx.Response:
    return httpx.post(f"{url}/v1/models/{endpoint}:predict", json={"instances": [row]}, timeout=30)


def test_a_failing_or_slow_shadow_changes_nothing_for_the_caller(
        versions: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", TOKEN)
    register(versions)
    with serve("serve", "--config", str(config(tmp_path, SHADOWED))) as server:
        url = server.url
        rows = [ROW] * 10 + [BREAKS] * 5 + [SLOWS] * 30
        answers = [_post(url, row) for row in rows]
        direct = [httpx.post(f"{url}/v2/models/numbers/versions/1/infer", json={"inputs": [
            {"name": k, "datatype": "FP64", "shape": [1], "data": [v]} for k, v in row.items()]})
            for row in (ROW, BREAKS, SLOWS)]
        assert [a.status_code for a in answers] == [200] * len(rows), [a.text for a in answers if a.is_error]
        expected = [d.json()["outputs"][0]["data"][0] for d in direct]
        assert [a.json()["predictions"][0] for a in answers] == \
            [expected[0]] * 10 + [expected[1]] * 5 + [expected[2]] * 30
        assert {a.headers["Modelport-Version"] for a in answers} == {"numbers:1"}

        def settled() -> bool:
            counts = admin(url, "GET", "/endpoints/scoring").json()["shadow_copies"]
            return counts["answered"] + counts["failed"] + counts["dropped"] == len(rows)

        wait_until(settled, 120, "every shadow copy answered, failed or dropped")
        counts = admin(url, "GET", "/endpoints/scoring").json()["shadow_copies"]
        assert counts["answered"] >= 10
        assert counts["failed"] == 5
        # 30 copies that take a second each, behind a queue of 2: most are dropped, and counted
        assert counts["dropped"] > 0
        assert server.metric("modelport_shadow_copies_total", endpoint="scoring", outcome="dropped") == \
            counts["dropped"]
        server.stop()

    frame = read_predictions(Settings.from_env().predictions, "numbers")
    primary = frame[frame["role"] == "primary"]
    shadow = frame[(frame["role"] == "shadow") & (frame["status"] == 200)]
    assert set(shadow["version"]) == {"3"}
    assert len(shadow) == counts["answered"]
    assert set(shadow["primary_id"]) <= set(primary["id"])
    # each shadow row copied the request of the primary row it names
    linked = primary.set_index("id").loc[shadow["primary_id"], ["input.x1", "input.x2"]]
    assert linked.to_numpy().tolist() == shadow[["input.x1", "input.x2"]].to_numpy().tolist()
    failed = frame[(frame["role"] == "shadow") & (frame["status"] == 500)]
    assert len(failed) == 5


GATES = {"min_requests": 10, "max_error_rate": 0.05, "max_p99_ratio": 1000}


def _canary(ref: str) -> dict[str, object]:
    return {"plan": {"primary": "numbers@production", "canary": {
        "ref": ref, "steps": [50, 100], "interval": "1s", "gates": GATES}}, "reason": f"canary {ref}"}


def _drive(url: str, row: dict[str, float], done: object) -> None:
    """Send traffic until ``done()`` (the loop acted); the loop needs requests to judge."""
    deadline = time.monotonic() + 120
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the canary loop did not act"
        for _ in range(10):
            _post(url, row)


def test_the_promotion_loop_promotes_a_good_canary_and_rolls_back_a_broken_one(
        versions: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", TOKEN)
    registry = register(versions)
    plans = ("endpoints:\n  scoring: numbers@production\ncanary_tick: 0.3\nplan_poll: 0.3\n"
             "log_flush_interval: 0.2\n")
    with serve("serve", "--config", str(config(tmp_path, plans))) as server:
        url = server.url

        def without_canary() -> bool:
            return "canary" not in admin(url, "GET", "/endpoints/scoring").json()["plan"]

        assert admin(url, "PUT", "/endpoints/scoring", json=_canary("numbers:2")).status_code == 200
        _drive(url, ROW, without_canary)
        assert registry.aliases_of("numbers")["production"] == 2
        last = registry.endpoints.history("scoring")[-1]
        assert (last.action, last.who) == ("promote", "modelport-canary")
        assert "all 1 steps passed" in (last.reason or "")
        wait_until(lambda: _post(url, ROW).headers["Modelport-Version"] == "numbers:2", 30, "v2 to serve")

        assert admin(url, "PUT", "/endpoints/scoring", json=_canary("numbers:3")).status_code == 200
        _drive(url, BREAKS, without_canary)
        last = registry.endpoints.history("scoring")[-1]
        assert (last.action, last.who) == ("rollback", "modelport-canary")
        assert "error_rate" in (last.reason or "")
        assert last.detail is not None
        assert any(g["outcome"] == "fail" for g in last.detail["gates"])
        assert registry.aliases_of("numbers")["production"] == 2
        state = admin(url, "GET", "/endpoints/scoring").json()["state"]
        assert state["phase"] == "rolled_back"
        answers = [_post(url, BREAKS) for _ in range(20)]
        assert {a.status_code for a in answers} == {200}
        assert {a.headers["Modelport-Version"] for a in answers} == {"numbers:2"}
