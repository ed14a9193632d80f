"""Endpoints in a real server: addressable like a model on all three protocols, routed by their plan,
logged with version and role; sticky A/B arms; admin API auth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from modelport.predictions.reader import read_predictions
from modelport.settings import Settings
from tests.artifacts import golden_mismatch
from tests.rollout_models import ROW, TOKEN, admin, config, pack_versions, register
from tests.serving_processes import serve, wait_until

PLANS = """
endpoints:
  scoring:
    primary: numbers@production
    canary: {ref: 'numbers:2', steps: [50, 100], weight: 50}
  pricing:
    ab: {arms: {a: 'numbers:1', b: 'numbers:2'}, split: 50, key: 'header:X-User-Id'}
canary_tick: 0
plan_poll: 0.5
log_flush_interval: 0.2
"""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return pack_versions(tmp_path_factory.mktemp("numbers"))


def _all_ready(url: str, endpoint: str) -> bool:
    answer = admin(url, "GET", f"/endpoints/{endpoint}")
    routing = answer.json().get("routing") if answer.status_code == 200 else None
    return bool(routing) and all(v["ready"] for v in routing["versions"].values())


def test_an_endpoint_answers_on_every_protocol_routed_by_its_plan_and_logged_with_role(
        versions: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", TOKEN)
    register(versions)
    with serve("serve", "--config", str(config(tmp_path, PLANS))) as server:
        wait_until(lambda: _all_ready(server.url, "scoring"), 120, "the canary to load")
        url = server.url
        answers = []
        for _ in range(30):
            answers.append(httpx.post(f"{url}/v2/models/scoring/infer", json={"inputs": [
                {"name": k, "datatype": "FP64", "shape": [1], "data": [v]} for k, v in ROW.items()]}))
            answers.append(httpx.post(f"{url}/v1/models/scoring:predict", json={"instances": [ROW]}))
            answers.append(httpx.post(f"{url}/invocations", json={"dataframe_records": [ROW]},
                                      headers={"Modelport-Model": "scoring"}))
        assert [a.status_code for a in answers] == [200] * 90, [a.text for a in answers if a.is_error]
        served = Counter((a.headers["Modelport-Version"], a.headers["Modelport-Role"]) for a in answers)
        # 50 % each way over 90 draws: both sides are seen (missing one has probability 2 * 0.5 ** 90)
        assert set(served) == {("numbers:1", "primary"), ("numbers:2", "canary")}
        v2 = answers[0].json()
        assert v2["model_name"] == "scoring"
        assert v2["model_version"] == answers[0].headers["Modelport-Version"]
        # a model asked by name and version goes straight to it, whatever the plans say
        direct = httpx.post(f"{url}/v2/models/numbers/versions/2/infer", json={"inputs": [
            {"name": k, "datatype": "FP64", "shape": [1], "data": [v]} for k, v in ROW.items()]})
        assert direct.status_code == 200
        assert "Modelport-Role" not in direct.headers
        ids = {a.headers["Modelport-Prediction-Ids"]: a.headers["Modelport-Version"] for a in answers}

        # sticky A/B: each user keeps its arm; a request without the key is counted
        arms: dict[str, set[str]] = {}
        for user in range(12):
            for _ in range(3):
                answer = httpx.post(f"{url}/v1/models/pricing:predict", json={"instances": [ROW]},
                                    headers={"X-User-Id": f"user-{user}"})
                assert answer.status_code == 200
                assert answer.headers["Modelport-Role"] == "arm"
                arms.setdefault(f"user-{user}", set()).add(answer.headers["Modelport-Arm"])
        assert all(len(seen) == 1 for seen in arms.values())
        assert httpx.post(f"{url}/v1/models/pricing:predict", json={"instances": [ROW]}).status_code == 200
        assert server.metric("modelport_routing_key_missing_total", endpoint="pricing") == 1
        server.stop()  # drains and writes out the log (a single process then re-raises SIGTERM)

    frame = read_predictions(Settings.from_env().predictions, "numbers")
    endpoint_rows = frame[frame["endpoint"] == "scoring"]
    assert len(endpoint_rows) == 90
    for row in endpoint_rows.itertuples():
        assert ids[row.id] == f"numbers:{row.version}"
        assert row.role == ("primary" if row.version == "1" else "canary")
    assert set(frame[frame["endpoint"] == "pricing"]["role"]) == {"arm"}


def test_the_admin_api_wants_the_right_bearer_token(versions: list[Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("MODELPORT_INFERENCE_TOKEN", "inference-token")
    register(versions)
    plans = "endpoints:\n  scoring: numbers@production\ncanary_tick: 0\n"
    with serve("serve", "--config", str(config(tmp_path, plans))) as server:
        assert admin(server.url, "GET", "/endpoints", token=None).status_code == 401
        wrong = admin(server.url, "GET", "/endpoints", token="not-it")
        assert wrong.status_code == 401
        assert wrong.headers["WWW-Authenticate"] == "Bearer"
        listed = admin(server.url, "GET", "/endpoints")
        assert listed.status_code == 200
        assert [e["endpoint"] for e in listed.json()["endpoints"]] == ["scoring"]
        body = {"instances": [ROW]}
        assert httpx.post(f"{server.url}/v1/models/scoring:predict", json=body).status_code == 401
        assert httpx.post(f"{server.url}/v1/models/scoring:predict", json=body,
                          headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
        assert httpx.post(f"{server.url}/v1/models/scoring:predict", json=body,
                          headers={"Authorization": "Bearer inference-token"}).status_code == 200


def test_without_an_admin_token_the_admin_api_is_off(versions: list[Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELPORT_ADMIN_TOKEN", raising=False)
    register(versions)
    with serve("serve", "numbers@production", "--canary-tick", "0") as server:
        for token in (None, "anything", TOKEN):
            refused = admin(server.url, "POST", "/reload", token=token)
            assert refused.status_code == 403
            assert "MODELPORT_ADMIN_TOKEN" in refused.json()["error"]



def test_a_version_failing_its_golden_check_never_takes_traffic_whatever_the_plan(
        versions: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", TOKEN)
    registry = register(versions)
    registry.register(golden_mismatch(versions[1], tmp_path / "tampered"), name="numbers")  # numbers:4
    plans = """
endpoints:
  scoring:
    primary: 'numbers:1'
    canary: {ref: 'numbers:4', steps: [90, 100], weight: 90}
    shadows: ['numbers:4']
canary_tick: 0
"""
    with serve("serve", "--config", str(config(tmp_path, plans))) as server:
        status = admin(server.url, "GET", "/endpoints/scoring").json()
        assert status["routing"]["versions"]["numbers:4"] == {"served": "numbers:4", "ready": False}
        answers = [httpx.post(f"{server.url}/v1/models/scoring:predict", json={"instances": [ROW]})
                   for _ in range(30)]
        assert {a.status_code for a in answers} == {200}
        assert {(a.headers["Modelport-Version"], a.headers["Modelport-Role"]) for a in answers} == \
            {("numbers:1", "primary")}
        assert admin(server.url, "GET", "/endpoints/scoring").json()["shadow_copies"] == \
            {"answered": 0, "failed": 0, "dropped": 0}
        # the server itself stays ready: only versions served from the start decide that
        assert httpx.get(f"{server.url}/v2/health/ready").status_code == 200
