"""Where a rollback takes an alias, decided from its history alone (pure: no database here).

Replaying an alias's moves gives a stack of the targets it has had: ``alias set`` pushes its
target, ``alias rm`` pushes "unset", and a rollback to a target still on the stack pops back down
to it (one to an older version that never was a target pushes it). Rolling back pops the current
target and skips entries that cannot be served (archived versions, "unset", the current target
again), so repeated rollbacks walk further back instead of toggling between two versions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from modelport.errors import NotFoundError
from modelport.registry.records import ALIAS_REMOVE, ALIAS_SET, ROLLBACK, HistoryEntry


def alias_stack(entries: Sequence[HistoryEntry], alias: str) -> list[int | None]:
    """The targets ``alias`` has had, oldest first, with rolled-back ones popped."""
    stack: list[int | None] = []
    for entry in entries:
        if entry.alias != alias:
            continue
        if entry.action == ALIAS_SET:
            stack.append(entry.to_version)
        elif entry.action == ALIAS_REMOVE:
            stack.append(None)
        elif entry.action == ROLLBACK:
            if entry.to_version in stack:
                while stack[-1] != entry.to_version:
                    stack.pop()
            else:
                stack.append(entry.to_version)
    return stack


def previous_target(entries: Sequence[HistoryEntry], name: str, alias: str, current: int | None,
                    archived: Collection[int]) -> int:
    """The version a rollback of ``alias`` returns to, or NotFoundError when there is none."""
    stack = alias_stack(entries, alias)
    if stack:
        stack.pop()
    while stack and (stack[-1] is None or stack[-1] == current or stack[-1] in archived):
        stack.pop()
    if not stack or stack[-1] is None:
        raise NotFoundError(f"alias {alias!r} of model {name!r} has no earlier live target to "
                            "roll back to; pass the version with --to")
    return stack[-1]
