"""Switches under load in a real two-worker server: no request fails across a canary's start, its
promotion, a rollback and an abort; every change is in the registry history with who and why."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.rollout_models import ROW, TOKEN, admin, config, pack_versions, register
from tests.serving_processes import serve, wait_until

CANARY = {"primary": "numbers@production",
          "canary": {"ref": "numbers:2", "steps": [50, 100], "weight": 50}}


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return pack_versions(tmp_path_factory.mktemp("numbers"))


class Traffic:
    """Clients posting to an endpoint without pause; every answer is counted, with who answered."""

    def __init__(self, url: str, clients: int = 4) -> None:
        self.url = url
        self.statuses: Counter[int] = Counter()
        self.answered: list[str] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    answer = client.post(f"{self.url}/v1/models/scoring:predict", json={"instances": [ROW]})
                except httpx.TransportError as exc:
                    with self._lock:
                        self.failures.append(repr(exc))
                    continue
                with self._lock:
                    self.statuses[answer.status_code] += 1
                    self.answered.append(answer.headers.get("Modelport-Version", ""))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def only(self, *versions: str, last: int = 40) -> bool:
        """The last ``last`` answers came from ``versions`` only, and from each of them."""
        with self._lock:
            recent = self.answered[-last:]
        return len(recent) == last and set(recent) == set(versions)

    def mark(self) -> int:
        with self._lock:
            return len(self.answered)

    def since(self, mark: int) -> set[str]:
        with self._lock:
            return set(self.answered[mark:])


def test_no_request_fails_across_canary_promote_rollback_and_abort(
        versions: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("MODELPORT_USER", "ops")
    register(versions)
    plans = "endpoints:\n  scoring: numbers@production\nworkers: 2\ncanary_tick: 0\nplan_poll: 0.5\n"
    with serve("serve", "--config", str(config(tmp_path, plans))) as server, Traffic(server.url) as traffic:
        url = server.url
        wait_until(lambda: traffic.only("numbers:1"), 60, "traffic on numbers:1")
        started = admin(url, "PUT", "/endpoints/scoring", json={"plan": CANARY, "reason": "try v2"})
        assert started.status_code == 200, started.text
        wait_until(lambda: traffic.only("numbers:1", "numbers:2"), 120, "the canary to take traffic")

        promoted = admin(url, "POST", "/endpoints/scoring/promote", json={"reason": "looks good"})
        assert promoted.status_code == 200, promoted.text
        assert promoted.json()["detail"]["alias_to"] == 2
        wait_until(lambda: traffic.only("numbers:2"), 60, "all traffic on the promoted version")

        rolled = admin(url, "POST", "/endpoints/scoring/rollback", json={"reason": "pager went off"})
        assert rolled.status_code == 200, rolled.text
        wait_until(lambda: traffic.only("numbers:1"), 60, "all traffic back on numbers:1")

        assert admin(url, "PUT", "/endpoints/scoring", json={"plan": CANARY}).status_code == 200
        wait_until(lambda: traffic.only("numbers:1", "numbers:2"), 60, "the second canary")
        aborted = admin(url, "POST", "/endpoints/scoring/abort", json={"reason": "enough"})
        assert aborted.status_code == 200, aborted.text
        wait_until(lambda: traffic.only("numbers:1"), 60, "the canary gone")
        status = admin(url, "GET", "/endpoints/scoring").json()
        assert status["plan"] == {"primary": "numbers@production"}

        # an alias moved by another process (here: this test) is followed by both workers
        Registry(Settings.from_env().registry_config()).set_alias("numbers", "production", 2,
                                                                  reason="moved elsewhere")
        wait_until(lambda: traffic.only("numbers:2"), 60, "the alias move to be followed")

    assert traffic.failures == []
    assert set(traffic.statuses) == {200}, traffic.statuses
    assert sum(traffic.statuses.values()) == len(traffic.answered) > 0
    registry = Registry(Settings.from_env().registry_config())
    changes = registry.endpoints.history("scoring")
    assert [(c.action, c.who) for c in changes] == [
        ("declare", "ops"), ("put", "ops (admin API)"), ("promote", "ops (admin API)"),
        ("rollback", "ops (admin API)"), ("put", "ops (admin API)"), ("abort", "ops (admin API)")]
    assert [c.reason for c in changes[2:4]] == ["looks good", "pager went off"]
    moves = registry.history("numbers", alias="production")
    assert [(m.from_version, m.to_version) for m in moves[-3:]] == [(1, 2), (2, 1), (1, 2)]
