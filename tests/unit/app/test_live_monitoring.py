"""The dashboard's data and the drift/performance gauges, on a server app driven in process with real
traffic: its numbers are the monitoring calculators' numbers on the same prediction log."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.metrics import accuracy_score

from modelport.app.monitor import FACTORY
from modelport.cli.serve_commands import MONITOR_EXTENSION
from modelport.monitoring.drift import DataDriftCalculator, DriftConfig, PredictionDriftCalculator
from modelport.predictions import joined, read_predictions
from modelport.reports import build_report, load_reference
from modelport.reports import inputs as columns
from modelport.serving.config import LogConfig, ServerConfig
from modelport.serving.extensions import ExtensionSpec
from modelport.serving.http.app import build_service, create_app
from tests.monitored_traffic import Traffic, credit_traffic
from tests.prediction_logs import SHIFTED, pack_credit
from tests.serving_apps import open_model

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pack_credit(tmp_path_factory.mktemp("live") / "credit").path


@contextlib.asynccontextmanager
async def monitored(artifact: Path, root: Path, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app serving credit version 1 with the monitoring extension, and a client in process."""
    config = ServerConfig(log=LogConfig(str(root), flush_interval_s=0.05))
    service, metrics = build_service([("credit", "1", open_model(artifact))], config)
    extension = ExtensionSpec(FACTORY, options).build(service, metrics)
    app = create_app(service, metrics, extensions=[extension])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://modelport.test") as client:
            yield client


async def send(client: httpx.AsyncClient, traffic: Traffic, root: Path, labelled: int = 0) -> list[str]:
    """Every request of ``traffic``; labels for the first ``labelled`` rows; returns once all is logged."""
    ids: list[str] = []
    for body in (*traffic.steady, *traffic.shifted):
        answer = await client.post("/invocations", json=body)
        assert answer.status_code == 200, answer.text
        ids += answer.json()["prediction_ids"]
    for body in traffic.bad:
        assert (await client.post("/invocations", json=body)).status_code == 422
    if labelled:
        feedback = [{"id": i, "label": label}
                    for i, label in zip(ids[:labelled], traffic.labels, strict=False)]
        answer = await client.post("/v2/models/credit/feedback", json={"feedback": feedback})
        assert answer.status_code == 200
    expected = traffic.rows + len(traffic.bad)
    with anyio.fail_after(30):
        while len(read_predictions(root, "credit")) < expected:
            await anyio.sleep(0.05)
    return ids


def scored(frame: pd.DataFrame) -> pd.DataFrame:
    return columns.succeeded(frame)


async def test_the_data_endpoint_reports_the_calculators_numbers_on_the_log(artifact: Path,
                                                                             tmp_path: Path) -> None:
    root = tmp_path / "predictions"
    traffic = credit_traffic()
    async with monitored(artifact, root, interval_s=0, cache_s=0) as client:
        await send(client, traffic, root, labelled=600)
        answer = await client.get("/dashboard/data", params={"since": "1h"})
        assert answer.status_code == 200, answer.text
        data = answer.json()
    assert data["models"] == [{"name": "credit", "versions": ["1"]}]
    assert (data["model"], data["version"], data["since"], data["window"]) == ("credit", None, "1h", "5min")
    report = data["report"]
    log = joined(root, "credit")
    reference = load_reference(artifact)

    operations = report["overall"]["operations"]
    assert operations["requests"] == traffic.rows + 5 == len(log)
    assert operations["status_classes"] == {"2xx": traffic.rows, "4xx": 5}
    p50, p95, p99 = np.percentile(log["latency_ms"].to_numpy(), [50, 95, 99])
    assert operations["latency_ms"] == pytest.approx({"p50": p50, "p95": p95, "p99": p99}, rel=1e-12)
    assert report["overall"]["versions"]["1"]["requests"] == len(log)

    ok = scored(log)
    features = [spec.name for spec in reference.signature.inputs]
    kinds = {spec.name: spec.kind for spec in reference.signature.inputs}
    calculator = DataDriftCalculator(DriftConfig()).fit(reference.inputs, kinds)
    drift = calculator.calculate(columns.inputs(ok, features))
    shown = {t["name"]: t for t in report["features"]}
    assert set(shown) == {f.feature for f in drift.features}
    for found in drift.features:
        assert shown[found.feature]["overall_effect"] == pytest.approx(found.test.effect_size, rel=1e-12)
        assert shown[found.feature]["overall_drifted"] == found.drifted
    assert set(SHIFTED) <= {name for name, t in shown.items() if t["overall_drifted"]}

    scores = [c for c in reference.score_columns if c in ok]
    outputs = PredictionDriftCalculator(columns.PREDICTION, scores, classification=True)
    outputs.fit(reference.outputs)
    predicted = outputs.calculate(columns.outputs(columns.conform(ok, reference), scores))
    by_output = {t["name"]: t["overall_effect"] for t in report["outputs"]}
    assert by_output == pytest.approx({f.feature: f.test.effect_size for f in predicted.features}, rel=1e-12)

    labelled = columns.conform(ok, reference)
    labelled = labelled[labelled["label"].notna()]
    accuracy = next(m for m in report["metrics"] if m["metric"] == "accuracy" and not m["estimated"])
    expected = accuracy_score(labelled["label"].astype(str), labelled["prediction"].astype(str))
    assert accuracy["overall"] == pytest.approx(expected, rel=1e-12)
    assert len(labelled) == 600


async def test_the_data_endpoint_names_what_is_wrong_with_a_query(artifact: Path, tmp_path: Path) -> None:
    async with monitored(artifact, tmp_path / "predictions", interval_s=0) as client:
        assert (await client.get("/dashboard/data", params={"since": "soon"})).status_code == 400
        too_many = await client.get("/dashboard/data", params={"since": "1h", "window": "1s"})
        assert too_many.status_code == 400
        missing = await client.get("/dashboard/data", params={"model": "nope"})
        assert missing.status_code == 404
        assert "nope" in missing.json()["error"]
        assert (await client.get("/dashboard/data", params={"version": "2"})).status_code == 404
        empty = await client.get("/dashboard/data")
        assert empty.status_code == 200
        assert empty.json()["report"]["overall"]["operations"]["requests"] == 0
        page = await client.get("/dashboard")
        assert page.status_code == 200
        assert '<script src="dashboard/plotly.min.js">' in page.text
        script = await client.get("/dashboard/plotly.min.js")
        assert script.status_code == 200
        assert "plotly.js" in script.text[:2000]
        etag = {"if-none-match": script.headers["etag"]}
        again = await client.get("/dashboard/plotly.min.js", headers=etag)
        assert again.status_code == 304


async def test_no_dashboard_and_no_gauges_without_a_prediction_log(artifact: Path) -> None:
    service, metrics = build_service([("credit", "1", open_model(artifact))], ServerConfig())
    extension = ExtensionSpec(FACTORY, {}).build(service, metrics)
    assert (extension.routes, extension.tasks) == ((), ())


def gauges(text: str) -> dict[str, dict[tuple[str, ...], float]]:
    """modelport_* gauge samples by name, then by their label values after model and version."""
    out: dict[str, dict[tuple[str, ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = dict(sample.labels)
            if labels.pop("model", None) == "credit" and labels.pop("version", None) == "1":
                out.setdefault(sample.name, {})[tuple(labels.values())] = sample.value
    return out


async def test_the_gauges_on_metrics_are_the_reports_figures(artifact: Path, tmp_path: Path) -> None:
    root = tmp_path / "predictions"
    traffic = credit_traffic()
    async with monitored(artifact, root, interval_s=0.2, cache_s=0) as client:
        await send(client, traffic, root, labelled=600)
        expected_rows = float(traffic.rows + 5)
        with anyio.fail_after(60):
            while True:
                found = gauges((await client.get("/metrics")).text)
                if (found.get("modelport_monitor_predictions", {}).get(()) == expected_rows
                        and "modelport_model_performance" in found):
                    break
                await anyio.sleep(0.1)
    report = build_report(load_reference(artifact), joined(root, "credit"), window="5min")
    assert found["modelport_feature_drift"] == pytest.approx(
        {(t.name,): t.overall_effect for t in report.features}, rel=1e-12)
    assert found["modelport_prediction_drift"] == pytest.approx(
        {(t.name,): t.overall_effect for t in report.outputs}, rel=1e-12)
    assert report.overall.data_drift is not None
    assert found["modelport_drift_share"][()] == pytest.approx(report.overall.data_drift.drift_share)
    realized = {(m.metric,): m.overall for m in report.metrics if not m.estimated and m.overall is not None}
    assert found["modelport_model_performance"] == pytest.approx(realized, rel=1e-12)
    assert {"accuracy", "roc_auc", "f1"} <= {name for (name,) in realized}
    for name in SHIFTED:
        assert found["modelport_feature_drift_alert"][(name,)] == 1.0
    assert found["modelport_monitor_alerts"][()] >= len(SHIFTED)
    assert not math.isnan(found["modelport_monitor_updated_timestamp_seconds"][()])


def test_the_cli_names_the_monitoring_extension() -> None:
    assert MONITOR_EXTENSION == FACTORY
