"""Shadow copies: a request's copy for each shadow version, answered after the caller's, never returned.

The primary's answer is sent first; :meth:`ShadowCopies.submit` only appends to a bounded queue
(a deque append, no await), so a shadow can never slow the caller down. One task per process takes
copies in order and sends each to its shadow versions through their own batchers; while the queue
is full, new copies are dropped and counted (``dropped``), so a slow or failing shadow costs the
primary nothing but the CPU its copies use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("modelport.serving")


@dataclass(frozen=True)
class ShadowCopy:
    """A request to copy: where it came in, the decoded input, and the ids of the primary's rows."""

    endpoint: str
    shadows: tuple[str, ...]
    raw: Any
    proba: bool
    protocol: str
    primary_ids: tuple[str, ...]


#: answers one copy for one shadow version (``name:version``); raising counts as a failure
Answerer = Callable[[ShadowCopy, str], Awaitable[None]]
#: told of each copy's fate: (endpoint, shadow version, outcome: answered, failed or dropped)
Observer = Callable[[str, str, str], None]


class ShadowCopies:
    """A bounded queue of copies and the task that answers them, off the critical path."""

    def __init__(self, answer: Answerer, capacity: int) -> None:
        self._answer = answer
        self.capacity = capacity
        self._queue: deque[ShadowCopy] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: told of every copy answered, failed or dropped (metrics); set by the HTTP application
        self.observe: Observer | None = None
        self.counts = {"answered": 0, "failed": 0, "dropped": 0}

    @property
    def queued(self) -> int:
        return len(self._queue)

    def submit(self, copy: ShadowCopy) -> None:
        """Queue ``copy``, or drop it (counted) when the queue is full; never waits."""
        if len(self._queue) >= self.capacity:
            for key in copy.shadows:
                self._count(copy.endpoint, key, "dropped")
            return
        self._queue.append(copy)
        self._wakeup.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="shadow-copies")

    async def stop(self) -> None:
        """Stop answering copies; those still queued are dropped (the primary answers went out)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._queue.clear()

    def _count(self, endpoint: str, key: str, outcome: str) -> None:
        self.counts[outcome] += 1
        if self.observe is not None:
            self.observe(endpoint, key, outcome)

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            copy = self._queue.popleft()
            for key in copy.shadows:
                try:
                    await self._answer(copy, key)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.debug("shadow %s failed a copy: %s", key, exc)
                    self._count(copy.endpoint, key, "failed")
                else:
                    self._count(copy.endpoint, key, "answered")
