"""``modelport rollout compare`` and ``modelport rollout analyze`` on a real prediction log: the numbers are
promotion's own, ``--json`` says the same, and a log too thin to analyse exits 11 saying why."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from modelport.cli.main import app
from modelport.predictions import FeedbackStore, PredictionLog, joined, read_predictions
from modelport.promotion import analyze, arm_outcomes, compare_shadow, split_roles
from modelport.reports.jsonio import plain
from modelport.settings import Settings
from tests.rollout_logs import SHADOW_AGE, WHEN, batch, conversions, good_proba, log_arms, log_shadowed

runner = CliRunner()
NO_DATA = 11


def root() -> Path:
    return Settings.from_env().predictions


def words(text: str) -> str:
    """The text with table borders and line breaks made single spaces."""
    return " ".join(re.sub("[\u2500-\u257f]", " ", text).split())


def test_compare_json_is_promotions_comparison_of_the_logged_shadow() -> None:
    log_shadowed(root())
    result = runner.invoke(app, ["rollout", "compare", "credit", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (shadow,) = data["shadows"]
    frame = read_predictions(root(), "credit")
    expected = compare_shadow(*split_roles(frame, "credit:2"), top=10)
    assert shadow == {"endpoint": "credit", "shadow": "credit:2", "primaries": ["credit:1"],
                      **plain(expected.to_dict())}
    assert (shadow["pairs"], shadow["missing_shadow"], shadow["shadow_failures"]) == (185, 10, 5)
    # the shadow lowers "good" by 0.3 from age 170 on: the largest score difference, and the first segment
    assert shadow["max_difference"] == pytest.approx(0.3)
    assert 0.0 < shadow["agreement"] < 1.0
    top = shadow["segments"][0]
    assert top["feature"] == "age"
    assert float(top["segment"].split(",")[0].strip("([")) >= SHADOW_AGE - 40
    assert shadow["shadow_latency"]["p50_ms"] > shadow["primary_latency"]["p50_ms"]


def test_compare_prints_tables_on_a_terminal() -> None:
    log_shadowed(root())
    result = runner.invoke(app, ["rollout", "compare", "credit", "--top", "3"])
    assert result.exit_code == 0, result.output
    text = words(result.stdout)
    expected = compare_shadow(*split_roles(read_predictions(root(), "credit"), "credit:2"))
    assert "credit: shadow credit:2 against credit:1" in text
    assert f"agreement {expected.agreement:.2%}" in text
    assert "copies lost (no shadow answer) 10" in text
    assert "shadow failures 5" in text
    assert "where they diverge" in text
    assert text.count("age (") + text.count("home ") + text.count("income (") >= 3


def test_primaries_answered_before_the_shadow_started_are_not_lost_copies() -> None:
    log_shadowed(root(), early=40)
    result = runner.invoke(app, ["rollout", "compare", "credit", "--json"])
    assert result.exit_code == 0, result.output
    (shadow,) = json.loads(result.stdout)["shadows"]
    assert (shadow["pairs"], shadow["missing_shadow"]) == (185, 10)


def test_the_window_limits_the_rows_compared() -> None:
    log_shadowed(root())
    inside = ["--from", WHEN.isoformat(), "--to", (WHEN + pd.Timedelta("100s")).isoformat(), "--json"]
    result = runner.invoke(app, ["rollout", "compare", "credit", *inside])
    assert result.exit_code == 0, result.output
    (shadow,) = json.loads(result.stdout)["shadows"]
    assert (shadow["pairs"], shadow["missing_shadow"]) == (100, 0)
    later = ["--from", (WHEN + pd.Timedelta("1h")).isoformat()]
    result = runner.invoke(app, ["rollout", "compare", "credit", *later])
    assert result.exit_code == NO_DATA
    assert "no shadow predictions of endpoint 'credit'" in words(result.output)
    assert "(0 rows logged for it)" in words(result.output)


def test_compare_without_a_shadow_exits_11_and_says_how_to_start_one() -> None:
    log_arms(root())
    result = runner.invoke(app, ["rollout", "compare", "pricing"])
    assert result.exit_code == NO_DATA
    assert ("no shadow predictions of endpoint 'pricing' in the whole log (800 rows logged for it): start "
            "one with `modelport rollout shadow pricing REF`") in words(result.output)


def post_conversions(ids: dict[str, list[str]], rates: dict[str, float], tmp_path: Path) -> None:
    """Outcomes for every arm, sent through ``modelport feedback`` as a CSV file."""
    parts = [pd.DataFrame({"id": ids[v], "converted": conversions(len(ids[v]), rate, seed=int(v))})
             for v, rate in rates.items()]
    file = tmp_path / "outcomes.csv"
    pd.concat(parts).to_csv(file, index=False)
    result = runner.invoke(app, ["feedback", "pricing", str(file), "--outcome-column", "converted"])
    assert result.exit_code == 0, result.output


def test_analyze_json_is_promotions_analysis_of_the_logged_arms(tmp_path: Path) -> None:
    post_conversions(log_arms(root()), {"1": 0.10, "2": 0.13}, tmp_path)
    result = runner.invoke(app, ["rollout", "analyze", "pricing", "--metric", "conversion", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    versions = {"pricing:1": "pricing:1", "pricing:2": "pricing:2"}
    expected = analyze(arm_outcomes(joined(root(), "pricing"), versions))
    assert data == {"endpoint": "pricing", "metric": "conversion", "since": None, "until": None,
                    "versions": versions, **plain(expected.to_dict())}
    assert data["kind"] == "conversion"
    assert [a["n"] for a in data["arms"]] == [400, 400]
    assert data["comparisons"][0]["test"] == "two_proportion_z"
    # 400 outcomes per arm cannot show a 5 % lift: too early, whatever the p-value
    assert data["winner"] is None
    assert data["still_needed"] > 0
    assert data["conclusion"].startswith("Too early to call")


def test_analyze_with_named_arms_a_split_and_a_terminal(tmp_path: Path) -> None:
    post_conversions(log_arms(root()), {"1": 0.10, "2": 0.13}, tmp_path)
    args = ["rollout", "analyze", "pricing", "--metric", "conversion", "--arms", "a=pricing:1,b=pricing:2",
            "--split", "50,50", "--alpha", "0.1", "--min-effect", "0.5"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    outcomes = arm_outcomes(joined(root(), "pricing"), {"a": "pricing:1", "b": "pricing:2"})
    expected = analyze(outcomes, alpha=0.1, min_effect=0.5, split=[50.0, 50.0])
    assert data["versions"] == {"a": "pricing:1", "b": "pricing:2"}
    assert [a["name"] for a in data["arms"]] == ["a", "b"]
    assert data["sample_ratio_p"] == pytest.approx(1.0)
    assert {k: data[k] for k in expected.to_dict()} == plain(expected.to_dict())
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    text = words(shown.stdout)
    assert "conversion per arm (conversion, 90% intervals)" in text
    assert f"{expected.arms[1].mean:.4g}" in text
    assert expected.conclusion in text


def test_a_winner_is_named_only_once_the_planned_sample_is_in(tmp_path: Path) -> None:
    post_conversions(log_arms(root()), {"1": 0.10, "2": 0.40}, tmp_path)
    base = ["rollout", "analyze", "pricing", "--metric", "conversion", "--json"]
    early = json.loads(runner.invoke(app, [*base, "--planned-per-arm", "1000"]).stdout)
    assert (early["winner"], early["still_needed"]) == (None, 600)
    assert early["comparisons"][0]["p_value"] < 1e-6
    done = json.loads(runner.invoke(app, [*base, "--planned-per-arm", "300"]).stdout)
    assert (done["winner"], done["complete"]) == ("pricing:2", True)
    assert done["conclusion"].startswith("pricing:2 beats pricing:1")


def test_numeric_outcomes_take_welchs_test(tmp_path: Path) -> None:
    ids = log_arms(root(), rows=50)
    values = {v: [float(i % 7) + (0.5 if v == "2" else 0.0) for i in range(50)] for v in ids}
    FeedbackStore(root()).add("pricing", ids["1"] + ids["2"], outcomes=values["1"] + values["2"])
    result = runner.invoke(app, ["rollout", "analyze", "pricing", "--metric", "revenue", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = analyze({"pricing:1": values["1"], "pricing:2": values["2"]})
    assert data["kind"] == "numeric"
    assert data["comparisons"] == plain([c.to_dict() for c in expected.comparisons])


def test_an_arm_without_outcomes_exits_11_and_names_it(tmp_path: Path) -> None:
    ids = log_arms(root(), ("1", "2", "3"), rows=40)
    post_conversions({v: ids[v] for v in ("1", "2")}, {"1": 0.5, "2": 0.5}, tmp_path)
    result = runner.invoke(app, ["rollout", "analyze", "pricing", "--metric", "conversion"])
    assert result.exit_code == NO_DATA
    assert ("InsufficientDataError: every arm needs at least two outcomes: pricing:3 (pricing:3) has 0 "
            "outcome(s) for 40 logged predictions. Post outcomes with `modelport feedback") \
        in words(result.output)
    named = runner.invoke(app, ["rollout", "analyze", "pricing", "--metric", "conversion",
                                "--arms", "a=pricing:1,b=pricing:9"])
    assert named.exit_code == NO_DATA
    assert "b (pricing:9) has 0 outcome(s) for 0 logged predictions" in words(named.output)


def test_one_version_or_text_outcomes_exit_11(tmp_path: Path) -> None:
    ids = log_arms(root(), ("1",), rows=20)
    result = runner.invoke(app, ["rollout", "analyze", "pricing", "--metric", "conversion"])
    assert result.exit_code == NO_DATA
    assert ("an A/B analysis needs two arms; endpoint 'pricing' logged 1 version(s) in the whole log "
            "(pricing:1): name them with --arms") in words(result.output)
    log_arms(root(), ("2",), rows=20)
    FeedbackStore(root()).add("pricing", ids["1"], outcomes=["yes"] * 20)
    result = runner.invoke(app, ["rollout", "analyze", "pricing", "--metric", "conversion"])
    assert result.exit_code == NO_DATA
    assert "the outcomes posted for 'pricing' must be numbers or booleans" in words(result.output)


@pytest.mark.parametrize(("args", "message"), [
    (["--arms", "a=pricing:1"], "give at least two arms"),
    (["--arms", "a=pricing:1,b=pricing"], "'b=pricing' is not NAME=MODEL:VERSION"),
    (["--arms", "a=pricing:1,a=pricing:2"], "arm 'a' is named twice"),
    (["--split", "50,x"], "is not a list of percents"),
    (["--split", "30,30,40"], "3 shares for 2 arms"),
    (["--since", "1h", "--from", "2026-01-01"], "not both"),
])
def test_bad_invocations_exit_2(args: list[str], message: str) -> None:
    log_arms(root(), rows=20)
    result = runner.invoke(app, ["rollout", "analyze", "pricing", "--metric", "conversion", *args])
    assert result.exit_code == 2, result.output
    assert message in words(result.output)


def test_shadow_rows_without_a_link_cannot_be_paired() -> None:
    with PredictionLog(root(), flush_interval_s=3600) as log:
        log.submit(batch("credit", "credit", "1", 0, 20, good_proba(0, 20), time=WHEN))
        log.submit(batch("credit", "credit", "2", 0, 20, good_proba(0, 20), role="shadow", time=WHEN))
    result = runner.invoke(app, ["rollout", "compare", "credit"])
    assert result.exit_code == NO_DATA
    assert ("the 20 shadow predictions of endpoint 'credit' in the whole log carry no primary_id linking "
            "them to the primary predictions they copied") in words(result.output)
