"""Endpoint plans in the registry: put, revisions, compare-and-set, canary state, history with who/why."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from modelport.app import rollout_actions
from modelport.errors import NotFoundError, RegistryError
from modelport.registry.endpoints import PROMOTE, PUT, REMOVE, ROLLBACK
from modelport.registry.service import Registry
from tests.integration.registry.conftest import MakeArtifact


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


def _refuse_history(registry: Registry, action: str) -> None:
    """Make the database itself refuse the next endpoint history entry of ``action`` (a trigger), as a
    full disk or a lost connection would refuse the last write of a change."""
    with registry.db.write() as conn:
        if registry.db.is_postgres:
            conn.execute(text(
                "CREATE FUNCTION refuse_history() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.action = '{action}' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON endpoint_history FOR EACH ROW "
                              "EXECUTE FUNCTION refuse_history()"))
        else:
            conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON endpoint_history "
                              f"WHEN NEW.action = '{action}' "
                              "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))


def test_a_promotion_moves_the_alias_and_the_plan_together_or_not_at_all(
        registry: Registry, make_artifact: MakeArtifact) -> None:
    for variant in (1, 2):
        registry.register(make_artifact(variant))
    registry.set_alias("churn", "production", 1)
    plan = {"primary": "churn@production", "canary": {"ref": "churn:2", "steps": [50, 100]}}
    registry.endpoints.put("scoring", plan, action=PUT)
    _refuse_history(registry, PROMOTE)
    with pytest.raises(DBAPIError, match="refused by the test"):
        rollout_actions.promote(registry, "scoring", who="loop", reason="gates passed")
    assert registry.aliases_of("churn")["production"] == 1
    assert registry.endpoints.require("scoring").plan["canary"]["ref"] == "churn:2"
    assert [entry.action for entry in registry.history("churn")] == ["register", "register", "alias_set"]


def test_a_rollback_moves_the_alias_back_and_records_it_together(
        registry: Registry, make_artifact: MakeArtifact) -> None:
    for variant in (1, 2):
        registry.register(make_artifact(variant))
    registry.set_alias("churn", "production", 1)
    registry.set_alias("churn", "production", 2)
    registry.endpoints.put("scoring", {"primary": "churn@production"}, action=PUT)
    _refuse_history(registry, ROLLBACK)
    with pytest.raises(DBAPIError, match="refused by the test"):
        rollout_actions.rollback(registry, "scoring", who="ana", reason="bad numbers")
    assert registry.aliases_of("churn")["production"] == 2
    with registry.db.write() as conn:
        conn.execute(text("DROP TRIGGER refuse ON endpoint_history" if registry.db.is_postgres
                          else "DROP TRIGGER refuse"))
    change = rollout_actions.rollback(registry, "scoring", who="ana", reason="bad numbers")
    assert registry.aliases_of("churn")["production"] == 1
    assert change.detail is not None
    assert (change.detail["from"], change.detail["to"]) == ("churn:2", "churn:1")
    assert registry.history("churn")[-1].action == "rollback"
