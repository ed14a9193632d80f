"""``modelport monitor report`` through typer's runner: NAME resolved in the registry, predictions from the
prediction log (labels joined from feedback), a file or an injected loader, HTML or JSON written, exit 0
when quiet and 8 when an alert fires."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import modelport
from modelport.cli.main import app
from modelport.cli.monitor_commands import (
    PredictionQuery,
    callers_traffic,
    monitor_app,
    parse_window,
    time_range,
)
from modelport.predictions import FeedbackStore, PredictionBatch, PredictionLog, joined
from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.prediction_logs import START, credit_halves, pack_credit, prediction_log
from tests.serving_processes import wait_until

runner = CliRunner()
RANGE = ["--from", "2026-01-05T00:00:00Z", "--to", "2026-01-05T06:00:00Z"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("monitor")
    packed = pack_credit(root / "credit")
    model = modelport.load(packed.path)
    _, _, x, y = credit_halves()
    steady = prediction_log(model, x, y)
    shifted = prediction_log(model, x, y, shift_from=3, labelled_hours=range(4))
    two = pd.concat([prediction_log(model, x.iloc[:1000], y.iloc[:1000], version="1"),
                     prediction_log(model, x.iloc[1000:], y.iloc[1000:], version="2")]).sort_values("time")
    paths = {"artifact": packed.path, "steady": root / "steady.parquet", "shifted": root / "shifted.parquet",
             "two": root / "two.parquet"}
    steady.to_parquet(paths["steady"])
    shifted.to_parquet(paths["shifted"])
    two.to_parquet(paths["two"])
    return paths


@pytest.fixture
def registered(files: dict[str, Path]) -> dict[str, Path]:
    """The credit artifact registered as credit:1, the production version."""
    with Registry(Settings.from_env().registry_config()) as registry:
        registry.register(files["artifact"])
        registry.set_alias("credit", "production", 1)
    return files


def test_no_drift_writes_the_html_report_and_exits_0(registered: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["monitor", "report", "credit", *RANGE, "--predictions",
                                 str(registered["steady"]), "--out", str(out), "--no-importance"])
    assert result.exit_code == 0, result.output
    assert "credit: no alerts" in result.stdout
    assert f"report written to {out}" in result.stdout
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert 'id="report-data"' in page


def test_drift_exits_8_and_the_json_says_what_drifted_since_when(registered: dict[str, Path]) -> None:
    result = runner.invoke(app, ["monitor", "report", "credit", *RANGE, "--predictions",
                                 str(registered["shifted"]), "--json"])
    assert result.exit_code == 8, result.output
    assert "AlertsFiredError" in result.stderr
    data = json.loads(result.stdout)
    drifted = {a["subject"]: a["since"] for a in data["summary"]["alerts"] if a["kind"] == "data_drift"}
    assert drifted == dict.fromkeys(["Age", "Amount", "Home"], "2026-01-05T03:00:00+00:00")
    assert data["model"]["reference_version"] == "credit:1"
    assert len(data["windows"]) == 6
    # labels arrived, so the command loaded the model and measured the importance shift
    assert data["importance"]["source"] == "permutation"
    assert {f["feature"] for f in data["importance"]["features"]} == set(data["model"]["features"])


def test_a_version_in_the_name_reports_only_that_versions_predictions(registered: dict[str, Path]) -> None:
    two = ["--predictions", str(registered["two"]), "--json", "--no-importance"]
    every = runner.invoke(app, ["monitor", "report", "credit", *RANGE, *two])
    assert every.exit_code == 0, every.output
    assert set(json.loads(every.stdout)["overall"]["versions"]) == {"1", "2"}
    one = runner.invoke(app, ["monitor", "report", "credit:1", *RANGE, *two])
    assert one.exit_code == 0, one.output
    data = json.loads(one.stdout)
    assert set(data["overall"]["versions"]) == {"1"}
    assert data["overall"]["operations"]["requests"] == 1000


def test_ref_takes_an_artifact_path_for_an_unregistered_model(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["monitor", "report", "credit", "--ref", str(files["artifact"]),
                                 "--predictions", str(files["steady"]), "--json", "--out", str(out),
                                 "--window", "1000"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["window"] == "1000 predictions"
    assert data["model"]["reference_version"] is None
    assert [w["span"]["requests"] for w in data["windows"]] == [1000, 1000, 454]


def test_the_composition_roots_loader_gets_the_query(registered: dict[str, Path]) -> None:
    steady = pd.read_parquet(registered["steady"])
    queries: list[PredictionQuery] = []

    def loader(query: PredictionQuery) -> pd.DataFrame:
        queries.append(query)
        assert query.until is not None
        return steady.assign(time=steady["time"] - steady["time"].max() + query.until - pd.Timedelta("1s"))

    root = typer.Typer()
    root.add_typer(monitor_app(loader))
    root.command("noop")(lambda: None)
    result = runner.invoke(root, ["monitor", "report", "credit@production", "--since", "6h", "--json",
                                  "--no-importance"])
    assert result.exit_code == 0, result.output
    (query,) = queries
    assert (query.model, query.version) == ("credit", "1")
    assert query.since is not None
    assert query.since == query.since.floor("1h")
    assert pd.Timedelta("6h") <= query.until - query.since < pd.Timedelta("7h")
    assert len(json.loads(result.stdout)["windows"]) == 7


@pytest.mark.parametrize(("args", "message"), [
    (["credit", "--predictions", "missing.parquet"], "no such file"),
    (["./credit.artifact", "--predictions", "x.parquet"], "is not a model name"),
    (["credit", "--since", "1h", "--from", "2026-01-01", "--predictions", "x.parquet"], "not both"),
    (["credit", "--window", "soon", "--predictions", "x.parquet"], "neither a span"),
    (["credit", "--tolerance", "accuracy", "--predictions", "x.parquet"], "is not METRIC=AMOUNT"),
    (["credit", "--bound", "accuracy=0.8", "--predictions", "x.parquet"], "is not METRIC=LOWER:UPPER"),
])
def test_bad_invocations_exit_2_and_say_why(registered: dict[str, Path], args: list[str],
                                            message: str) -> None:
    result = runner.invoke(app, ["monitor", "report", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_bounds_and_tolerances_decide_performance_alerts(registered: dict[str, Path]) -> None:
    args = ["monitor", "report", "credit", *RANGE, "--predictions", str(registered["steady"]), "--json",
            "--window", "1d", "--no-importance"]
    result = runner.invoke(app, [*args, "--bound", "accuracy=0.99:", "--tolerance", "roc_auc=0.1"])
    assert result.exit_code == 8, result.output
    data = json.loads(result.stdout)
    assert [a["subject"] for a in data["summary"]["alerts"]] == ["accuracy"]
    auc = next(m for m in data["overall"]["performance"]["metrics"] if m["metric"] == "roc_auc")
    assert auc["lower"] == pytest.approx(auc["reference"] - 0.1)
    assert runner.invoke(app, [*args, "--bound", "log_loss=:5"]).exit_code == 0


def test_window_and_range_parsing() -> None:
    now = pd.Timestamp("2026-02-01 13:27", tz="UTC")
    assert parse_window("1h") == "1h"
    assert parse_window("500") == 500
    assert time_range("24h", None, None, "1h", now) == (pd.Timestamp("2026-01-31 13:00", tz="UTC"), now)
    assert time_range("24h", None, None, 500, now) == (pd.Timestamp("2026-01-31 13:27", tz="UTC"), now)
    assert time_range(None, "2026-01-05T01:00", None, "1h", now) == (START + pd.Timedelta("1h"), None)
    assert time_range(None, None, None, "1d", now) == (None, None)


def _log_batches(log: PredictionLog, frame: pd.DataFrame, rows: int = 50, **fields: object) -> None:
    """Submit the frame's rows as the server would: a request of up to ``rows`` rows at a time, each
    within one hour, logged at the time of its first row."""
    features = [c for c in frame if c.startswith("input.")]
    hours = frame["time"].dt.floor("1h")
    parts = [hour[at:at + rows] for _, hour in frame.groupby(hours) for at in range(0, len(hour), rows)]
    for part in parts:
        inputs = part[features].set_axis([c.removeprefix("input.") for c in features], axis=1)
        log.submit(PredictionBatch(
            endpoint="credit", model="credit", version=str(fields.get("version", "1")), inputs=inputs,
            predictions=part["prediction"].to_numpy(),
            probabilities=part[["proba.bad", "proba.good"]].to_numpy(), labels=["bad", "good"],
            role=str(fields.get("role", "primary")), latency_ms=float(part["latency_ms"].mean()),
            ids=[f"{fields.get('role', 'primary')}-{i}" for i in part["id"]],
            time=part["time"].iloc[0].floor("us").to_pydatetime()))


def test_the_report_reads_the_prediction_log_and_its_feedback(registered: dict[str, Path]) -> None:
    shifted = pd.read_parquet(registered["shifted"])
    root = Settings.from_env().predictions
    with PredictionLog(root, flush_interval_s=3600) as log:
        _log_batches(log, shifted)
        _log_batches(log, shifted.iloc[:500], role="shadow", version="2")
    labelled = shifted[shifted["label"].notna()]
    receipt = FeedbackStore(root).add("credit", [f"primary-{i}" for i in labelled["id"]],
                                      labels=labelled["label"].to_numpy())
    assert receipt.match.joined == len(labelled)
    result = runner.invoke(app, ["monitor", "report", "credit", *RANGE, "--json", "--no-importance"])
    assert result.exit_code == 8, result.output
    data = json.loads(result.stdout)
    assert {a["subject"] for a in data["summary"]["alerts"] if a["kind"] == "data_drift"} == \
        {"Age", "Amount", "Home"}
    assert data["overall"]["span"]["requests"] == len(shifted)  # shadow copies left out
    assert data["overall"]["span"]["labelled"] == len(labelled)
    assert [w["span"]["labelled"] > 0 for w in data["windows"]] == [True] * 4 + [False] * 2


def test_the_report_shows_the_cpu_and_memory_the_log_sampled(registered: dict[str, Path]) -> None:
    steady = pd.read_parquet(registered["steady"]).iloc[:600]
    now = pd.Timestamp.now(tz="UTC").floor("1s")
    recent = steady.assign(time=now - pd.to_timedelta(range(len(steady), 0, -1), unit="s"))
    root = Settings.from_env().predictions
    with PredictionLog(root, flush_interval_s=0.05, resource_interval_s=0.05) as log:
        _log_batches(log, recent)
        # the writer samples when it starts, then once more on close: two samples once it has written
        wait_until(lambda: log.stats().written > 0, 30, "the log's first write")
    result = runner.invoke(app, ["monitor", "report", "credit", "--since", "2h", "--json", "--no-importance"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    use = data["overall"]["resources"]
    assert use["processes"] == 1
    (process,) = use["by_process"]
    assert process["pid"] == os.getpid()
    assert process["samples"] >= 2
    assert process["rss_max_bytes"] == use["rss_bytes"] > 2**20
    assert any("serving process(es) kept" in line for line in data["summary"]["lines"])
    from_file = runner.invoke(app, ["monitor", "report", "credit", "--since", "2h", "--json",
                                    "--no-importance", "--predictions", str(registered["steady"])])
    assert json.loads(from_file.stdout)["overall"]["resources"] is None


def test_a_bare_name_leaves_shadow_copies_out_and_a_version_keeps_them() -> None:
    frame = pd.DataFrame({"role": ["primary", "shadow", "canary", "shadow"], "version": ["1", "2", "3", "2"]})
    every = callers_traffic(frame, PredictionQuery("credit", None, None, None))
    assert every["role"].tolist() == ["primary", "canary"]
    assert len(callers_traffic(frame, PredictionQuery("credit", "2", None, None))) == 4


def _log_rollout(steady: pd.DataFrame) -> None:
    """credit:1 answers the steady rows; credit:2 shadows the first 1,500 (its "good" lowered by 0.2 for
    amounts above 1,300); credit:3 answers every fifth request as a canary."""
    features = [c for c in steady if c.startswith("input.")]
    with PredictionLog(Settings.from_env().predictions, flush_interval_s=3600) as log:
        for k, at in enumerate(range(0, len(steady), 50)):
            part = steady.iloc[at:at + 50]
            inputs = part[features].set_axis([c.removeprefix("input.") for c in features], axis=1)
            proba = part[["proba.bad", "proba.good"]].to_numpy()
            version, role = ("3", "canary") if k % 5 == 4 else ("1", "primary")
            ids = [f"{role}-{i}" for i in part["id"]]
            when = part["time"].iloc[0].floor("us").to_pydatetime()
            common = {"endpoint": "credit", "model": "credit", "inputs": inputs, "labels": ["bad", "good"],
                      "time": when}
            log.submit(PredictionBatch(version=version, role=role, predictions=part["prediction"].to_numpy(),
                                       probabilities=proba, latency_ms=float(part["latency_ms"].mean()),
                                       ids=ids, **common))
            if at >= 1500:
                continue
            good = np.clip(proba[:, 1] - np.where(inputs["Amount"] > 1300, 0.2, 0.0), 0.0, 1.0)
            shadow = np.column_stack([1 - good, good])
            log.submit(PredictionBatch(version="2", role="shadow", primary_ids=ids, probabilities=shadow,
                                       predictions=np.where(good >= 0.5, "good", "bad").astype(object),
                                       latency_ms=2 * float(part["latency_ms"].mean()),
                                       **common))


def test_the_report_has_a_rollout_section_with_promotions_numbers(registered: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    from modelport.promotion import compare_shadow, split_roles, window_statistics
    from modelport.reports.jsonio import plain

    _log_rollout(pd.read_parquet(registered["steady"]))
    result = runner.invoke(app, ["monitor", "report", "credit", *RANGE, "--json", "--no-importance"])
    assert result.exit_code == 0, result.output
    rollout = json.loads(result.stdout)["rollout"]
    frame = joined(Settings.from_env().predictions, "credit", *(r.removesuffix("Z") for r in RANGE[1::2]))
    expected = compare_shadow(*split_roles(frame, "credit:2"), min_rows=30)
    (shadow,) = rollout["shadows"]
    assert shadow == {"endpoint": "credit", "shadow": "credit:2", "primaries": ["credit:1", "credit:3"],
                      **plain(expected.to_dict())}
    assert (shadow["pairs"], shadow["missing_shadow"]) == (1500, 954)
    assert 0.0 < shadow["agreement"] < 1.0
    top = shadow["segments"][0]
    assert (top["feature"], top["segment"]) == ("Amount", "(1300.0, 4000.0]")
    assert top["mean_difference"] > 0.15
    stats = window_statistics(frame)
    assert [v["version"] for v in rollout["versions"]] == ["credit:1", "credit:3"]
    for row in rollout["versions"]:
        version = stats[row["version"]]
        assert (row["requests"], row["errors"], row["p99_ms"]) == (version.requests, version.errors,
                                                                  version.p99_ms)
        shares = pd.Series(version.predictions).value_counts(normalize=True)
        assert row["predictions"] == pytest.approx(shares.to_dict())
    assert rollout["versions"][1]["roles"] == ["canary"]
    out = tmp_path / "report.html"
    html = runner.invoke(app, ["monitor", "report", "credit", *RANGE, "--no-importance", "--out", str(out)])
    assert html.exit_code == 0, html.output
    page = out.read_text()
    assert '<section id="rollout"><h2>Rollout</h2>' in page
    assert "credit:2 against the primary: disagreement by segment" in page
    assert "credit: predictions per version" in page
    assert "Latency of the paired requests" in page


def test_a_report_without_shadows_canaries_or_arms_has_no_rollout(registered: dict[str, Path]) -> None:
    result = runner.invoke(app, ["monitor", "report", "credit", *RANGE, "--json", "--no-importance",
                                 "--predictions", str(registered["two"])])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rollout"] is None
