"""The live dashboard in a real browser: ``modelport serve --workers 2`` takes real traffic (steady rows,
shifted rows, rejected requests, delayed labels); Debian's chromium, driven by Playwright, loads
/dashboard and the charts render the server's numbers. The screenshot is saved as ``dashboard.png``
in the test's pytest tmp path (printed; run with ``-s`` to see where).

Chromium comes from Debian (``scripts/chromium.sh`` installs it when /usr/bin/chromium is missing),
never from ``playwright install``. Without it the test skips on a developer's machine and FAILS under
CI=true, so a CI run cannot pass without having driven the browser.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelport.predictions import read_predictions
from modelport.settings import Settings
from tests.monitored_traffic import credit_traffic
from tests.prediction_logs import SHIFTED, pack_credit
from tests.serving_processes import Server, serve, wait_until

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "chromium.sh"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, installed by scripts/chromium.sh if missing."""
    if not CHROMIUM.exists():
        done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
        if done.returncode != 0 or not CHROMIUM.exists():
            message = f"no {CHROMIUM}: `bash scripts/chromium.sh` failed: {done.stderr[-2000:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return CHROMIUM


def send_traffic(server: Server) -> int:
    """Every request (paced, so they spread over a few of the page's one-second windows) and the labels
    of the first 600 rows; the number of requests logged."""
    traffic = credit_traffic()
    ids: list[str] = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for body in (*traffic.steady, *traffic.shifted):
            answer = client.post("/invocations", json=body)
            assert answer.status_code == 200, answer.text
            ids += answer.json()["prediction_ids"]
            time.sleep(0.15)
        for body in traffic.bad:
            assert client.post("/invocations", json=body).status_code == 422
        feedback = [{"id": i, "label": label} for i, label in zip(ids[:600], traffic.labels, strict=False)]
        assert client.post("/v2/models/credit/feedback", json={"feedback": feedback}).status_code == 200
    return traffic.rows + len(traffic.bad)


def chart(page: Any, name: str) -> Any:
    """What plotly drew in one chart: its traces' names, x, y and colours, and the SVG points."""
    return page.evaluate("""name => {
        const node = document.getElementById(name);
        return {traces: node.data.map(t => ({name: t.name === undefined ? null : t.name, x: t.x, y: t.y,
                                             z: t.z, color: t.marker ? t.marker.color : null})),
                points: node.querySelectorAll(".point").length,
                lines: node.querySelectorAll(".scatterlayer .trace").length};
    }""", f"chart-{name}")


def test_the_dashboard_renders_the_servers_numbers(chromium: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    artifact = pack_credit(tmp_path / "credit").path
    with serve("serve", str(artifact), "--workers", "2", "--monitor-interval", "1",
               "--log-flush-interval", "0.2", "--monitor-range", "15min") as server:
        requests = send_traffic(server)
        root = Settings.from_env().predictions
        wait_until(lambda: len(read_predictions(root, "credit")) == requests, 60, "every request logged")
        # two workers: exactly one computes the gauges, and the scrape does not add them up
        wait_until(lambda: server.metric("modelport_monitor_predictions") == requests, 60, "the gauges")
        assert server.metric("modelport_feature_drift_alert", feature="Age") == 1.0

        query = "since=5min&window=1s"
        data = httpx.get(f"{server.url}/dashboard/data?{query}").json()
        overall = data["report"]["overall"]["operations"]
        assert overall["requests"] == requests
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=str(chromium), headless=True, args=ARGS,
                viewport={"width": 1400, "height": 1000})
            try:
                page = context.new_page()
                failures: list[str] = []
                page.on("pageerror", lambda error: failures.append(str(error)))
                page.goto(f"{server.url}/dashboard?{query}")
                page.wait_for_function("Number(document.body.dataset.rendered || 0) >= 1", timeout=60_000)
                assert not failures
                tiles = {name: page.inner_text(f"#tile-{name} .value")
                         for name in ("requests", "p50", "p99", "errors", "drifted")}
                latency = chart(page, "latency")
                traffic = chart(page, "traffic")
                errors = chart(page, "errors")
                drift = chart(page, "drift")
                heatmap = chart(page, "drift-windows")
                performance = chart(page, "performance")
                versions = page.inner_text("#versions tbody")
                screenshot = tmp_path / "dashboard.png"
                page.screenshot(path=str(screenshot), full_page=True)
                print(f"dashboard screenshot: {screenshot}")
            finally:
                context.close()

    assert tiles["requests"] == str(requests)
    assert float(tiles["p50"]) == pytest.approx(overall["latency_ms"]["p50"], rel=5e-3)
    assert float(tiles["p99"]) == pytest.approx(overall["latency_ms"]["p99"], rel=5e-3)
    assert tiles["errors"] == f"{100 * 5 / requests:.2f} %"
    assert [t["name"] for t in latency["traces"]] == ["p50", "p95", "p99"]
    assert latency["lines"] == 3
    assert sum(v is not None for v in latency["traces"][2]["y"]) >= 3  # the traffic spans several windows
    assert {"2xx", "4xx", "requests / s"} <= {t["name"] for t in traffic["traces"]}
    assert sum(v or 0 for t in traffic["traces"] if t["name"] == "2xx" for v in t["y"]) == requests - 5
    assert [t["name"] for t in errors["traces"]] == ["4xx"]
    features = [t["name"] for t in data["report"]["features"]]
    assert drift["traces"][0]["x"] == features
    assert drift["points"] == len(features)  # one bar drawn per feature
    red = {x for x, color in zip(drift["traces"][0]["x"], drift["traces"][0]["color"], strict=True)
           if color == "#d62728"}
    assert set(SHIFTED) <= red
    assert tiles["drifted"].endswith(f"/ {len(features)}")
    assert heatmap["traces"][0]["y"] == features
    assert "accuracy" in {t["name"] for t in performance["traces"]}
    assert str(requests) in versions
