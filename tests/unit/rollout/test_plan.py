"""Deployment plans: read from the ``endpoints:`` mapping, every problem named at once, written back."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from modelport.errors import ConfigError
from modelport.rollout import (
    ABTest,
    Arm,
    Canary,
    EndpointPlan,
    Gates,
    KeySource,
    MetricGate,
    format_duration,
    parse_duration,
    parse_metric_gate,
    parse_plan,
    parse_plans,
)

FILE = """
credit:
  primary: credit@production
  canary:
    ref: credit:4
    steps: 1,5,25,50,100
    interval: 5m
    gates:
      min_requests: 200
      max_error_rate: 0.01
      max_p99_ratio: 1.2
      max_disagreement: 0.05
      metric: conversion>=baseline
  shadows: [credit:5]
pricing:
  ab:
    arms: {control: pricing:1, treatment: pricing:2}
    split: 30
    key: header:X-User-Id
plain: churn:3
"""


def test_a_full_file_reads_into_plans() -> None:
    credit, pricing, plain = parse_plans(yaml.safe_load(FILE))
    assert credit == EndpointPlan(
        "credit", "credit@production",
        Canary("credit:4", (1, 5, 25, 50, 100), 300.0,
               Gates(200, 0.01, 1.2, 0.05, MetricGate("conversion", ">=", relative=True)), weight=1.0),
        shadows=("credit:5",))
    assert credit.canary is not None
    assert credit.canary.analysed_steps == (1, 5, 25, 50)
    assert pricing == EndpointPlan("pricing", "pricing:1", ab=ABTest(
        (Arm("control", "pricing:1"), Arm("treatment", "pricing:2")), (30.0, 70.0),
        KeySource("header", "x-user-id")))
    assert plain == EndpointPlan("plain", "churn:3")
    assert credit.refs() == ("credit@production", "credit:4", "credit:5")
    assert pricing.refs() == ("pricing:1", "pricing:2")


@pytest.mark.parametrize("endpoint", ["credit", "pricing", "plain"])
def test_a_plan_written_back_reads_the_same(endpoint: str) -> None:
    plan = {p.endpoint: p for p in parse_plans(yaml.safe_load(FILE))}[endpoint]
    text = yaml.safe_dump(plan.to_dict())  # what the registry history stores
    assert parse_plan(endpoint, yaml.safe_load(text)) == plan


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_plans({
            "credit": {"primary": "credit:3", "canary": {
                "ref": "credit:4", "steps": [5, 1], "interval": "soon", "colour": "red",
                "gates": {"min_requests": 0, "max_p99_ratio": "fast", "metric": "conversion > baseline",
                          "max_latency": 3}}},
            "pricing": {"ab": {"arms": {"a": "pricing:1", "b": "pricing:2"}, "split": [50, 40],
                               "key": "cookie:uid"}},
            "both": {"primary": "x:1", "canary": "x:2",
                     "ab": {"arms": ["x:1", "x:2"], "key": "field:user"}},
            "bad name!": "x:1",
            "empty": {"shadows": [3]},
        })
    message = str(caught.value)
    for part in [
        "endpoints.credit.canary: unknown key 'colour'",
        "endpoints.credit.canary.steps: must rise strictly",
        "endpoints.credit.canary.interval: must be a duration like 30s, 5m or 1h, got 'soon'",
        "endpoints.credit.canary.gates: unknown gate 'max_latency'",
        "endpoints.credit.canary.gates: max_p99_ratio must be a number, got 'fast'",
        "endpoints.credit.canary.gates: metric must read NAME>=baseline",
        "endpoints.pricing.ab.split: must give each of the 2 arms a percent, summing to 100, "
        "got [50.0, 40.0]",
        "got [50.0, 40.0]",
        "endpoints.pricing.ab.key: must be header:NAME or field:NAME, got 'cookie:uid'",
        "endpoints.both: a canary and an A/B test cannot run on one endpoint at once",
        "endpoints.bad name!: an endpoint name must be",
        "endpoints.empty.primary: must be a model reference, got None",
        "endpoints.empty.shadows: must be a list of model references",
    ]:
        assert part in message, part


def test_gate_values_out_of_range_are_named_together() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_plan("e", {"primary": "m:1", "canary": {"ref": "m:2", "gates": {
            "min_requests": 0, "max_error_rate": 2, "max_disagreement": 1.5}}})
    message = str(caught.value)
    assert "min_requests must be a whole number of at least 1, got 0" in message
    assert "max_error_rate must lie in [0, 1], got 2" in message
    assert "max_disagreement must lie in [0, 1), got 1.5" in message


@pytest.mark.parametrize(("data", "problem"), [
    ({"primary": "m:1", "canary": {"ref": "m:2", "steps": [100]}}, "need a step below 100"),
    ({"primary": "m:1", "canary": {"ref": "m:2", "steps": [0, 50]}}, "must rise strictly from above 0"),
    ({"primary": "m:1", "canary": {"ref": "m:2", "steps": [1, 150]}}, "150 is not a percent"),
    ({"primary": "m:1", "canary": {"ref": "m:2", "weight": [1, 2]}}, "must be one percent"),
    ({"primary": "m:1", "canary": {"ref": "m:2", "interval": "-5m"}}, "duration"),
    ({"primary": "m:1", "canary": {"ref": "m:2", "interval": 0}}, "positive duration"),
    ({"ab": {"arms": ["m:1"], "key": "field:u"}}, "at least two arms, got 1"),
    ({"ab": {"arms": {"a": "m:1", "b": ""}, "key": "field:u"}}, "endpoints.e.ab.arms.b: must be a model"),
    ({"ab": {"arms": {"a": "m:1", "b": "m:2"}}}, "key: must be header:NAME or field:NAME, got None"),
    ({"primary": 3}, "endpoints.e.primary: must be a model reference, got 3"),
    ([1, 2], "must be a reference or a mapping with primary"),
])
def test_one_bad_plan_is_refused_with_its_place(data: Any, problem: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        parse_plan("e", data)
    assert problem in str(caught.value)


def test_endpoints_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="endpoints: must map endpoint names to plans"):
        parse_plans(["credit"])


def test_defaults_and_short_forms() -> None:
    plan = parse_plan("e", {"primary": "m:1", "canary": "m:2", "shadows": "m:3"})
    assert plan.canary == Canary("m:2")
    assert plan.canary.weight == 1.0
    assert plan.canary.interval_s == 300.0
    assert plan.shadows == ("m:3",)
    listed = parse_plan("e", {"ab": {"arms": ["m:1", {"name": "new", "ref": "m:2"}, "m:3"],
                                     "split": [20, 30, 50], "key": "field:user_id"}})
    assert listed.ab is not None
    assert [arm.name for arm in listed.ab.arms] == ["a", "new", "arm2"]
    assert listed.ab.key == KeySource("field", "user_id")  # a field keeps its case
    assert listed.primary == "m:1"  # the first arm is the control and the fallback
    keyed = parse_plan("e", {"primary": "m:1", "canary": {"ref": "m:2", "key": "header:X-User",
                                                         "weight": 25}})
    assert keyed.canary is not None
    assert (keyed.canary.key, keyed.canary.weight) == (KeySource("header", "x-user"), 25.0)


def test_plan_transitions_for_promotion_and_rollback() -> None:
    plan = parse_plan("e", {"primary": "m:1", "canary": "m:2", "shadows": ["m:3"]})
    assert plan.with_canary_weight(25).canary == Canary("m:2", weight=25.0)
    assert plan.promoted() == EndpointPlan("e", "m:2", shadows=("m:3",))
    assert plan.rolled_back() == EndpointPlan("e", "m:1", shadows=("m:3",))
    with pytest.raises(ValueError, match="has no canary"):
        plan.rolled_back().promoted()


@pytest.mark.parametrize(("text", "seconds", "written"), [
    ("30s", 30.0, "30s"), ("5m", 300.0, "5m"), ("1h", 3600.0, "1h"), ("90", 90.0, "90s"),
    (45, 45.0, "45s"), ("250ms", 0.25, "0.25s"), ("1.5m", 90.0, "90s"), (7200, 7200.0, "2h"),
])
def test_durations(text: str | int, seconds: float, written: str) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == written
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(("text", "gate", "baseline", "bound"), [
    ("conversion>=baseline", MetricGate("conversion", ">=", True), 0.1, 0.1),
    ("revenue >= baseline*0.95", MetricGate("revenue", ">=", True, scale=0.95), 10.0, 9.5),
    ("conversion>=baseline-0.01", MetricGate("conversion", ">=", True, offset=-0.01), 0.1, 0.09),
    ("refunds<=baseline+0.5", MetricGate("refunds", "<=", True, offset=0.5), 1.0, 1.5),
    ("refund_rate<=0.02", MetricGate("refund_rate", "<=", False, offset=0.02), None, 0.02),
])
def test_metric_rules(text: str, gate: MetricGate, baseline: float | None, bound: float) -> None:
    parsed = parse_metric_gate(text)
    assert parsed == gate
    assert parsed.bound(baseline) == pytest.approx(bound)
    assert parse_metric_gate(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["conversion", "conversion=baseline", ">=baseline", "x>=baseline*-1",
                                  "x>=baseline/2", "x>=base"])
def test_bad_metric_rules_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="metric"):
        parse_metric_gate(text)


def test_a_salt_is_read_written_back_and_checked() -> None:
    plan = parse_plan("pricing", {"ab": {"arms": {"a": "p:1", "b": "p:2"}, "key": "header:X-User-Id",
                                         "salt": "2026-03"},
                                  "shadows": ["p:3"]})
    assert plan.ab is not None
    assert plan.ab.salt == "2026-03"
    assert plan.to_dict()["ab"]["salt"] == "2026-03"
    assert parse_plan("pricing", plan.to_dict()) == plan
    canary = parse_plan("credit", {"primary": "c:1", "canary": {"ref": "c:2", "key": "field:user",
                                                                 "salt": 7}})
    assert canary.canary is not None
    assert canary.canary.salt == "7"
    assert parse_plan("credit", canary.to_dict()) == canary
    assert "salt" not in parse_plan("e", {"ab": {"arms": ["p:1", "p:2"], "key": "field:u"}}).to_dict()["ab"]
    with pytest.raises(ConfigError, match=r"endpoints.e.ab.salt: must be a text of 1-128 characters"):
        parse_plan("e", {"ab": {"arms": ["p:1", "p:2"], "key": "field:u", "salt": ""}})
