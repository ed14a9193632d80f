"""The example Prometheus alert rules parse and query only series the server really exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from modelport.cli.serve_commands import MONITOR_EXTENSION
from modelport.serving.config import LogConfig, ServerConfig
from modelport.serving.extensions import ExtensionSpec
from modelport.serving.http.app import build_service, create_app
from tests.artifacts import small_classifier
from tests.serving_apps import open_model

pytestmark = pytest.mark.anyio

RULES = Path(__file__).resolve().parents[2] / "examples" / "prometheus-alerts.yml"
#: series Prometheus makes itself (``up``) or a blackbox exporter probing /v2/health/ready
NOT_FROM_THE_SERVER = {"up", "probe_success"}
#: the series names a metric family of each type exposes
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _selectors(expr: str) -> dict[str, set[str]]:
    """Metric name → the label names its selectors filter on, for every series ``expr`` reads."""
    found: dict[str, set[str]] = {}
    for match in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\}|\[)", expr):
        labels = re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", match.group(2))
        found.setdefault(match.group(1), set()).update(labels)
    for name in re.findall(r"\bmodelport_\w+", expr):
        found.setdefault(name, set())
    return found


def test_the_rules_parse_and_each_alert_is_complete() -> None:
    rules = _rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)) >= 6
    for rule in rules:
        assert isinstance(rule["expr"], str)
        assert rule["expr"].strip()
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
    used = set().union(*(_selectors(rule["expr"]) for rule in rules))
    assert {"modelport_requests_total", "modelport_request_duration_seconds_bucket",
            "modelport_prediction_log_rows", "modelport_worker_starts_total", "modelport_feature_drift_alert",
            "modelport_prediction_drift_alert", "modelport_model_performance_alert",
            "modelport_monitor_updated_timestamp_seconds"} <= used


async def test_every_series_the_rules_use_is_exported(tmp_path: Path) -> None:
    """The server with its monitoring extension (as ``modelport serve`` runs it), after its gauges updated."""
    artifact, x = small_classifier(tmp_path / "small")
    log = LogConfig(str(tmp_path / "predictions"), flush_interval_s=0.05)
    service, metrics = build_service([("small", "1", open_model(artifact.path))], ServerConfig(log=log))
    monitor = ExtensionSpec(MONITOR_EXTENSION, {"interval_s": 0.1, "cache_s": 0}).build(service, metrics)
    app = create_app(service, metrics, extensions=[monitor])
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://modelport.test") as client:
        answer = await client.post("/invocations", json={"dataframe_records": x.head(2).to_dict("records")})
        assert answer.status_code == 200
        with anyio.fail_after(60):
            while 'modelport_monitor_predictions{model="small",version="1"} 2.0' not in (
                    text := (await client.get("/metrics")).text):
                await anyio.sleep(0.05)
    exported: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        # a labelled metric nobody has counted yet has no samples but still declares its name
        for name in (f"{family.name}{suffix}" for suffix in SUFFIXES.get(family.type, ("",))):
            exported.setdefault(name, set())
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    for rule in _rules():
        for name, labels in _selectors(rule["expr"]).items():
            if name in NOT_FROM_THE_SERVER:
                continue
            assert name in exported, f"{rule['alert']}: {name} is not in /metrics"
            if exported[name]:  # samples exist: the labels the rule filters on must be theirs
                missing = labels - exported[name]
                assert not missing, f"{rule['alert']}: {name} has no label {missing}"
