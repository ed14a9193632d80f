"""Endpoint plans in the registry: put, revisions, compare-and-set, canary state, history with who/why."""

from __future__ import annotations

import pytest

from modelport.errors import NotFoundError, RegistryError
from modelport.registry.endpoints import PROMOTE, PUT, REMOVE
from modelport.registry.service import Registry


def test_plan_changes_bump_the_revision_and_are_recorded_with_who_and_why(registry: Registry) -> None:
    store = registry.endpoints
    assert store.revisions() == {}
    store.put("credit", {"primary": "credit:1"}, action=PUT, who="ana", reason="first")
    change = store.put("credit", {"primary": "credit:2"}, action=PROMOTE, who="loop", reason="gates passed",
                       detail={"from": "credit:1"})
    assert store.revisions() == {"credit": 2}
    assert change.previous == {"primary": "credit:1"}
    assert change.plan == {"primary": "credit:2"}
    history = store.history("credit")
    assert [(h.action, h.who, h.reason) for h in history] == [(PUT, "ana", "first"),
                                                                (PROMOTE, "loop", "gates passed")]
    assert history[1].detail == {"from": "credit:1"}
    assert store.require("credit").plan == {"primary": "credit:2"}


def test_a_stale_writer_is_refused_and_the_state_is_kept_only_when_asked(registry: Registry) -> None:
    store = registry.endpoints
    store.put("credit", {"primary": "credit:1"}, action=PUT)
    store.set_state("credit", {"step": 1})
    assert store.require("credit").state == {"step": 1}
    store.put("credit", {"primary": "credit:1", "shadows": ["credit:2"]}, action=PUT, keep_state=True)
    assert store.require("credit").state == {"step": 1}
    with pytest.raises(RegistryError, match="changed meanwhile"):
        store.put("credit", {"primary": "credit:3"}, action=PUT, expect_revision=1)
    store.put("credit", {"primary": "credit:3"}, action=PUT, expect_revision=2)
    assert store.require("credit").state is None


def test_removing_a_plan_keeps_its_history(registry: Registry) -> None:
    store = registry.endpoints
    with pytest.raises(NotFoundError):
        store.put("gone", None, action=REMOVE)
    store.put("gone", {"primary": "m:1"}, action=PUT)
    store.put("gone", None, action=REMOVE, reason="retired")
    assert store.get("gone") is None
    assert store.revisions() == {}
    assert [h.action for h in store.history("gone")] == [PUT, REMOVE]
