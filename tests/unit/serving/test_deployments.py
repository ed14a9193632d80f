"""Deployments without a server: references mapped to served keys, sticky keys read from a body."""

from __future__ import annotations

from modelport.rollout.plan import parse_plan
from modelport.serving.deployments import UNRESOLVED, body_fields, routed_plan


def test_a_routed_plan_names_served_keys_and_marks_what_did_not_resolve() -> None:
    plan = parse_plan("credit", {"primary": "credit@production", "canary": "credit:4",
                                 "shadows": ["credit:5", "credit@production"]})
    routed = routed_plan(plan, {"credit@production": "credit:3", "credit:4": "credit:4"})
    assert routed.primary == "credit:3"
    assert routed.canary is not None
    assert routed.canary.ref == "credit:4"
    assert routed.shadows == (UNRESOLVED + "credit:5", "credit:3")
    arms = routed_plan(parse_plan("p", {"ab": {"arms": {"a": "m:1", "b": "m:2"}, "key": "field:user"}}),
                       {"m:1": "m:1"})
    assert arms.ab is not None
    assert [arm.ref for arm in arms.ab.arms] == ["m:1", UNRESOLVED + "m:2"]


def test_a_sticky_field_is_found_at_the_top_in_parameters_or_in_the_first_record() -> None:
    assert body_fields(b'{"user": "u1", "inputs": []}') == {"user": "u1", "inputs": []}
    assert body_fields(b'{"parameters": {"user": "u2"}, "inputs": []}')["user"] == "u2"
    assert body_fields(b'{"instances": [{"user": "u3", "x": 1}]}')["user"] == "u3"
    assert body_fields(b'{"dataframe_records": [{"user": "u4"}]}')["user"] == "u4"
    assert body_fields(b'{"user": "u5"}\x00\x01binary', header_length="14")["user"] == "u5"
    assert body_fields(b"[1, 2]") is None
    assert body_fields(b"not json") is None
