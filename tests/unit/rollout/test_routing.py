"""The routing policy: weights within binomial bounds, sticky keys, and no traffic to unready versions."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from modelport.errors import NotReadyError
from modelport.rollout import EndpointPlan, Route, key_fraction, parse_plan, request_key, route
from modelport.rollout.plan import KeySource

KEYS = [f"user-{i}" for i in range(20_000)]
#: chance that a correct policy falls outside the bounds the tests allow, per check
FALSE_ALARM = 1e-6


def binomial_bounds(n: int, share: float) -> tuple[float, float]:
    low, high = stats.binom.interval(1 - FALSE_ALARM, n, share)
    return float(low), float(high)


def canary_plan(weight: float, *, key: str | None = None, shadows: tuple[str, ...] = ()) -> EndpointPlan:
    canary: dict[str, object] = {"ref": "m:2", "weight": weight}
    if key:
        canary["key"] = key
    return parse_plan("credit", {"primary": "m:1", "canary": canary, "shadows": list(shadows)})


AB = parse_plan("pricing", {"ab": {"arms": {"a": "p:1", "b": "p:2", "c": "p:3"}, "split": [20, 30, 50],
                                   "key": "header:X-User-Id"}})
ARMS = {"a": "p:1", "b": "p:2", "c": "p:3"}
ALL = {"m:1", "m:2", "m:3", "p:1", "p:2", "p:3"}


@pytest.mark.parametrize("weight", [1, 5, 25, 50])
def test_canary_weight_over_many_keys_is_within_a_binomial_bound(weight: float) -> None:
    plan = canary_plan(weight, key="header:X-User-Id")
    chosen = sum(route(plan, key, 0.5, ALL).role == "canary" for key in KEYS)
    low, high = binomial_bounds(len(KEYS), weight / 100)
    assert low <= chosen <= high


def test_ab_split_over_many_keys_is_within_binomial_bounds() -> None:
    counts = {"a": 0, "b": 0, "c": 0}
    for key in KEYS:
        found = route(AB, key, 0.0, ALL)
        assert found.role == "arm"
        assert found.arm is not None
        assert found.version == ARMS[found.arm]
        counts[found.arm] += 1
    for arm, percent in zip("abc", (20, 30, 50), strict=True):
        low, high = binomial_bounds(len(KEYS), percent / 100)
        assert low <= counts[arm] <= high, (arm, counts)


def test_a_key_always_gets_the_same_arm_whatever_the_draw() -> None:
    draws = np.random.default_rng(7).random(50)
    for key in KEYS[:200]:
        routes = {route(AB, key, float(draw), ALL) for draw in draws}
        assert len(routes) == 1
        assert not routes.pop().key_missing


def test_the_hash_is_stable_across_processes_and_pinned() -> None:
    """blake2b of endpoint NUL key, first 8 bytes big-endian over 2**64: no per-process hash seed."""
    expected = int.from_bytes(hashlib.blake2b(b"pricing\x00user-1", digest_size=8).digest(), "big") / 2**64
    assert key_fraction("pricing", "user-1") == expected
    code = "from modelport.rollout import key_fraction; print(repr(key_fraction('pricing', 'user-1')))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PYTHONPATH": ":".join(sys.path)})
    assert float(other.stdout) == expected
    assert key_fraction("other-endpoint", "user-1") != expected  # endpoints shuffle users apart


def _ab(salt: str | None) -> EndpointPlan:
    ab: dict[str, object] = {"arms": {"a": "p:1", "b": "p:2"}, "split": 50, "key": "header:X-User-Id"}
    if salt is not None:
        ab["salt"] = salt
    return parse_plan("pricing", {"ab": ab})


def test_a_new_salt_reshuffles_the_keys_and_the_same_salt_keeps_them() -> None:
    """A new experiment on the same endpoint must not give the same users the treatment again."""
    first = [route(_ab("experiment-1"), key, 0.5, ALL).arm for key in KEYS]
    again = [route(_ab("experiment-1"), key, 0.5, ALL).arm for key in KEYS]
    second = [route(_ab("experiment-2"), key, 0.5, ALL).arm for key in KEYS]
    assert first == again
    # independent assignments agree on half the keys (50/50 split), within a binomial bound
    same = sum(a == b for a, b in zip(first, second, strict=True))
    low, high = binomial_bounds(len(KEYS), 0.5)
    assert low <= same <= high
    # without a salt, the assignment is the one plans had before salts existed
    unsalted = [route(_ab(None), key, 0.5, ALL).arm for key in KEYS[:500]]
    assert unsalted == ["a" if key_fraction("pricing", key) < 0.5 else "b" for key in KEYS[:500]]
    assert key_fraction("pricing", "user-1", "s") == int.from_bytes(hashlib.blake2b(
        b"pricing\x00s\x00user-1", digest_size=8).digest(), "big") / 2**64


def test_a_salted_canary_puts_other_keys_first() -> None:
    def first_keys(salt: str) -> set[str]:
        plan = parse_plan("credit", {"primary": "m:1", "canary": {"ref": "m:2", "weight": 10,
                                                                   "key": "field:user", "salt": salt}})
        return {key for key in KEYS if route(plan, key, 0.9, ALL).role == "canary"}

    one, two = first_keys("canary-1"), first_keys("canary-2")
    assert first_keys("canary-1") == one
    low, high = binomial_bounds(len(one), 0.10)
    assert low <= len(one & two) <= high  # the second canary's 10 % overlaps the first's by chance only


def test_a_growing_canary_keeps_the_keys_it_had() -> None:
    before = {key for key in KEYS if route(canary_plan(5, key="field:user"), key, 0.9, ALL).role == "canary"}
    after = {key for key in KEYS if route(canary_plan(25, key="field:user"), key, 0.9, ALL).role == "canary"}
    assert before
    assert before < after


def test_without_a_key_the_draw_decides_and_the_route_says_so() -> None:
    draws = np.random.default_rng(11).random(20_000)
    routes = [route(AB, None, float(draw), ALL) for draw in draws]
    assert all(r.key_missing for r in routes)
    chosen = sum(r.arm == "b" for r in routes)
    low, high = binomial_bounds(len(draws), 0.30)
    assert low <= chosen <= high
    # the draw maps onto the split in order: [0, .2) a, [.2, .5) b, [.5, 1) c
    assert [route(AB, None, d, ALL).arm for d in (0.0, 0.1999, 0.2, 0.4999, 0.5, 0.9999)] == \
        ["a", "a", "b", "b", "c", "c"]


def test_an_unkeyed_canary_uses_the_draw_and_flags_nothing() -> None:
    plan = canary_plan(5)
    assert route(plan, None, 0.0499, ALL) == Route("m:2", "canary")
    assert route(plan, None, 0.05, ALL) == Route("m:1", "primary")
    assert route(plan, "ignored-key", 0.9, ALL).role == "primary"  # no key source: keys are not used
    keyed = canary_plan(5, key="header:X-User-Id")
    assert route(keyed, None, 0.0, ALL) == Route("m:2", "canary", key_missing=True)


def test_unready_versions_never_receive_traffic() -> None:
    plan = canary_plan(50, shadows=("m:3",))
    draws = np.random.default_rng(3).random(2_000)
    for ready in ({"m:1"}, {"m:1", "m:3"}):
        routes = [route(plan, None, float(d), ready) for d in draws]
        assert {r.version for r in routes} == {"m:1"}
        assert all(set(r.shadows) <= ready for r in routes)
        assert any(r.fallback_from == "m:2" for r in routes)
    assert route(plan, None, 0.9, {"m:1", "m:2", "m:3"}) == Route("m:1", "primary", shadows=("m:3",))
    # the primary unready: the ready canary takes everything rather than nothing answering
    assert {route(plan, None, float(d), {"m:2"}).version for d in draws} == {"m:2"}


def test_an_unready_arm_falls_back_to_the_primary_then_to_a_ready_arm() -> None:
    for key in KEYS[:500]:
        found = route(AB, key, 0.5, {"p:1", "p:3"})
        assert found.version in {"p:1", "p:3"}
        if found.fallback_from is not None:
            assert (found.fallback_from, found.version, found.arm) == ("p:2", "p:1", "a")
    # the primary (first arm) not ready either: the first ready arm
    found = [route(AB, key, 0.5, {"p:3"}) for key in KEYS[:500]]
    assert {(r.version, r.arm) for r in found} == {("p:3", "c")}


def test_nothing_ready_is_a_clear_error() -> None:
    with pytest.raises(NotReadyError, match=r"credit is not ready: no version of its plan is ready \(m:1"):
        route(canary_plan(5), None, 0.5, {"m:9"})


def test_a_shadow_is_never_the_version_that_answers_twice() -> None:
    plan = parse_plan("e", {"primary": "m:1", "shadows": ["m:1", "m:3"]})
    assert route(plan, None, 0.5, ALL).shadows == ("m:3",)


@pytest.mark.parametrize("draw", [-0.1, 1.0, 1.5])
def test_a_draw_outside_the_unit_interval_is_refused(draw: float) -> None:
    with pytest.raises(ValueError, match=r"draw must lie in \[0, 1\)"):
        route(canary_plan(5), None, draw, ALL)


def test_request_keys_from_headers_and_fields() -> None:
    header = KeySource.parse("header:X-User-Id")
    assert request_key(header, {"x-user-id": "42"}, None) == "42"
    assert request_key(header, {"X-USER-ID": "42"}, None) == "42"
    assert request_key(header, {"x-user-id": ""}, None) is None
    assert request_key(header, {}, {"x-user-id": "1"}) is None
    field = KeySource.parse("field:user_id")
    assert request_key(field, {}, {"user_id": 42}) == "42"
    assert request_key(field, {}, {"user_id": None}) is None
    assert request_key(field, {}, {"user_id": [1, 2]}) is None
    assert request_key(field, {"user_id": "h"}, None) is None
    assert request_key(None, {"x-user-id": "42"}, {"user_id": 1}) is None
