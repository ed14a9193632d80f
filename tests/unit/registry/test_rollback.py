"""Where a rollback goes, from the history alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelport.errors import NotFoundError
from modelport.registry.records import HistoryEntry
from modelport.registry.rollback import alias_stack, previous_target

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _moves(*steps: tuple[str, int | None]) -> list[HistoryEntry]:
    entries, current = [], None
    for i, (action, to) in enumerate(steps):
        entries.append(HistoryEntry(i, "m", WHEN, "t", action, alias="production",
                                    from_version=current, to_version=to))
        current = to
    return entries


def test_sets_push_and_rollbacks_pop_back_to_their_target() -> None:
    moves = _moves(("alias_set", 1), ("alias_set", 2), ("alias_set", 3), ("rollback", 2))
    assert alias_stack(moves, "production") == [1, 2]
    assert previous_target(moves, "m", "production", 2, archived=()) == 1


def test_a_rollback_to_a_version_never_targeted_is_pushed() -> None:
    moves = _moves(("alias_set", 1), ("alias_set", 2), ("rollback", 7))
    assert alias_stack(moves, "production") == [1, 2, 7]
    assert previous_target(moves, "m", "production", 7, archived=()) == 2


def test_removed_aliases_roll_back_to_their_last_target() -> None:
    moves = _moves(("alias_set", 1), ("alias_set", 2), ("alias_remove", None))
    assert previous_target(moves, "m", "production", None, archived=()) == 2


def test_archived_repeated_and_unset_targets_are_skipped() -> None:
    moves = _moves(("alias_set", 1), ("alias_set", 2), ("alias_remove", None), ("alias_set", 3),
                   ("alias_set", 4), ("alias_set", 4))
    assert previous_target(moves, "m", "production", 4, archived={3}) == 2


def test_other_aliases_do_not_count_and_nothing_earlier_is_an_error() -> None:
    moves = _moves(("alias_set", 1))
    other = HistoryEntry(9, "m", WHEN, "t", "alias_set", alias="shadow", to_version=5)
    with pytest.raises(NotFoundError, match="no earlier live target"):
        previous_target([*moves, other], "m", "production", 1, archived=())
    with pytest.raises(NotFoundError):
        previous_target([], "m", "production", None, archived=())
