"""What rollouts cost: routing a request through an endpoint, the time a switch takes under load,
and what a shadow costs the primary's latency.

Run: PYTHONPATH=src:. python bench/rollout_costs.py [--requests 2000] [--seconds 4]

1. routing: ``Deployments.choose`` (plan lookup, random draw or sticky-key hash, the pure policy) in
   process, and a whole request through an endpoint against the same request straight to the model
   (one in-process ASGI app, the two interleaved, medians);
2. switch: a two-worker server under 4 closed-loop clients; promote, then rollback, through the
   admin API; the switch time is from the admin call until the last request *sent* that was still
   answered by the old version (every request sent later got the new one); every answer is counted;
3. shadow: one server, sequential and 4-client traffic to an endpoint without a shadow and to one
   with a shadow of the same model, interleaved; p50/p99 of the caller's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import numpy as np
from tests.rollout_models import ROW, TOKEN, admin, pack_versions, register
from tests.serving_processes import serve, wait_until

from modelport.inference.load import load
from modelport.rollout.plan import parse_plan
from modelport.serving.config import ServerConfig
from modelport.serving.http.app import build_service, create_app

BODY = {"instances": [ROW]}


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def routing(paths: list[Path], requests: int) -> dict[str, float]:
    models = [("numbers", "1", load(paths[0], golden_check=False)),
              ("numbers", "2", load(paths[1], golden_check=False))]
    service, metrics = build_service(models, ServerConfig(inline_below_ms=10))
    app = create_app(service, metrics)
    plan = parse_plan("scoring", {"primary": "numbers:1", "canary": {"ref": "numbers:2", "weight": 5}})
    sticky = parse_plan("sticky", {"primary": "numbers:1", "canary": {
        "ref": "numbers:2", "weight": 5, "key": "header:x-user-id"}})
    keys = {"numbers:1": "numbers:1", "numbers:2": "numbers:2"}
    service.deployments.set(plan, keys)
    service.deployments.set(sticky, keys)
    headers = {"x-user-id": "user-42", "content-type": "application/json"}

    async def run() -> dict[str, float]:
        async with app.router.lifespan_context(app):
            deployments = service.deployments
            out: dict[str, float] = {}
            for name, deployment in (("choose_draw_us", deployments.get("scoring")),
                                     ("choose_sticky_us", deployments.get("sticky"))):
                assert deployment is not None
                times = []
                for _ in range(20_000):
                    start = time.perf_counter()
                    deployments.choose(deployment, headers, b"")
                    times.append(time.perf_counter() - start)
                out[name] = _median_us(times)
            times = []
            for _ in range(20_000):
                start = time.perf_counter()
                service.get("numbers", None)
                times.append(time.perf_counter() - start)
            out["direct_lookup_us"] = _median_us(times)
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                direct, routed = [], []
                for _ in range(requests):
                    for path, bucket in (("/v1/models/numbers:predict", direct),
                                         ("/v1/models/scoring:predict", routed)):
                        start = time.perf_counter()
                        answer = await client.post(path, json=BODY)
                        bucket.append(time.perf_counter() - start)
                        assert answer.status_code == 200
            out["request_direct_us"] = _median_us(direct)
            out["request_endpoint_us"] = _median_us(routed)
            out["request_difference_us"] = out["request_endpoint_us"] - out["request_direct_us"]
            return out

    return asyncio.run(run())


class Load:
    """Closed-loop clients recording (sent, answered, version, status) for every request."""

    def __init__(self, url: str, endpoint: str, clients: int = 4) -> None:
        self.url, self.endpoint = url, endpoint
        self.records: list[tuple[float, float, str, int]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                sent = time.perf_counter()
                answer = client.post(f"{self.url}/v1/models/{self.endpoint}:predict", json=BODY)
                record = (sent, time.perf_counter(), answer.headers.get("Modelport-Version", ""),
                          answer.status_code)
                with self._lock:
                    self.records.append(record)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def _switch_seconds(records: list[tuple[float, float, str, int]], started: float, old: str) -> float:
    late = [sent for sent, _, version, _ in records if version == old and sent >= started]
    return max(late) - started if late else 0.0


def switches(paths: list[Path], seconds: float) -> dict[str, Any]:
    register(paths)
    home = Path(os.environ["MODELPORT_HOME"])
    config = home / "serve.yaml"
    config.write_text("endpoints:\n  scoring: numbers@production\nworkers: 2\ncanary_tick: 0\n"
                      "keep_warm: 600\n")
    out: dict[str, Any] = {}
    with serve("serve", "--config", str(config)) as server, Load(server.url, "scoring") as load:
        url = server.url
        time.sleep(seconds)
        canary = {"ref": "numbers:2", "steps": [50, 100], "weight": 50}
        put = admin(url, "PUT", "/endpoints/scoring",
                    json={"plan": {"primary": "numbers@production", "canary": canary}})
        assert put.status_code == 200, put.text
        wait_until(lambda: {r[2] for r in load.records[-40:]} == {"numbers:1", "numbers:2"}, 60, "canary")
        time.sleep(seconds)
        for action, old in (("promote", "numbers:1"), ("rollback", "numbers:2")):
            started = time.perf_counter()
            answer = admin(url, "POST", f"/endpoints/scoring/{action}", json={"reason": "bench"})
            called = time.perf_counter() - started
            assert answer.status_code == 200, answer.text
            time.sleep(seconds)
            out[action] = {"admin_call_s": round(called, 4),
                           "switch_s": round(_switch_seconds(load.records, started, old), 4)}
    statuses = [status for _, _, _, status in load.records]
    out["requests"] = len(statuses)
    out["failed"] = sum(status != 200 for status in statuses)
    return out


def shadow_cost(paths: list[Path], requests: int) -> dict[str, Any]:
    register(paths)
    home = Path(os.environ["MODELPORT_HOME"])
    config = home / "shadow.yaml"
    config.write_text("endpoints:\n  plain: 'numbers:1'\n  shadowed: {primary: 'numbers:1', "
                      "shadows: ['numbers:2']}\ncanary_tick: 0\n")
    out: dict[str, Any] = {}
    with serve("serve", "--config", str(config)) as server, httpx.Client(timeout=30) as client:
        url = server.url
        samples: dict[str, list[float]] = {"plain": [], "shadowed": []}
        for _ in range(requests):
            for endpoint, bucket in samples.items():
                start = time.perf_counter()
                client.post(f"{url}/v1/models/{endpoint}:predict", json=BODY)
                bucket.append(time.perf_counter() - start)
        for endpoint, times in samples.items():
            out[f"c1_{endpoint}_p50_us"] = round(float(np.percentile(times, 50)) * 1e6, 1)
            out[f"c1_{endpoint}_p99_us"] = round(float(np.percentile(times, 99)) * 1e6, 1)
        for endpoint in ("plain", "shadowed"):
            with Load(url, endpoint) as load:
                time.sleep(3)
            latencies = [answered - sent for sent, answered, _, _ in load.records]
            out[f"c4_{endpoint}_p50_us"] = round(float(np.percentile(latencies, 50)) * 1e6, 1)
            out[f"c4_{endpoint}_p99_us"] = round(float(np.percentile(latencies, 99)) * 1e6, 1)
            out[f"c4_{endpoint}_rps"] = round(len(latencies) / 3, 1)
        status = admin(url, "GET", "/endpoints/shadowed").json()
        out["shadow_copies"] = status["shadow_copies"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = pack_versions(root / "versions")
        os.environ["MODELPORT_ADMIN_TOKEN"] = TOKEN
        results: dict[str, Any] = {}
        os.environ["MODELPORT_HOME"] = str(root / "home-routing")
        results["routing"] = routing(paths, args.requests)
        print("routing", results["routing"], flush=True)
        os.environ["MODELPORT_HOME"] = str(root / "home-switch")
        results["switch"] = switches(paths, args.seconds)
        print("switch", results["switch"], flush=True)
        os.environ["MODELPORT_HOME"] = str(root / "home-shadow")
        results["shadow"] = shadow_cost(paths, args.requests // 2)
        print("shadow", results["shadow"], flush=True)


if __name__ == "__main__":
    main()
