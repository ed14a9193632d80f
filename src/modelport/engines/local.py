"""A pool of worker processes that each set up once, then run the tasks the main process feeds them.

The pool knows nothing of models or files: ``setup(state)`` runs once in every worker and returns
the function that handles one task there (batch scoring loads the model in ``setup``). Tasks go to
each worker's own inbox, at most ``depth`` at a time, so the main process reads ahead while the
workers compute, never holds more than ``workers * depth`` tasks in flight, and knows which tasks a
worker held if it dies. Results come back unordered, as they finish.

Workers start with the ``spawn`` method (no fork of a process that holds Arrow's thread pools),
ignore Ctrl-C (the main process stops them) and exit by themselves when the main process is gone,
so a killed run leaves no process behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import queue
import signal
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from types import TracebackType
from typing import Any, Generic, TypeVar

from modelport.errors import BatchError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

#: how often an idle worker looks whether its parent is still alive, and the main process whether
#: its workers are, in seconds
POLL_S = 0.5


def default_workers() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class PoolConfig:
    """How many worker processes, and how many tasks each may hold (the one it runs included)."""

    workers: int = field(default_factory=default_workers)
    depth: int = 2

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1, got {self.depth}")


@dataclass
class PoolStats:
    """What the pool did: tasks run and the most held in flight at once (the read-ahead bound)."""

    tasks: int = 0
    peak_in_flight: int = 0


@dataclass(frozen=True)
class RemoteFailure:
    """An exception raised in a worker, carried back in a form that survives pickling.

    Exceptions whose ``__init__`` takes other arguments than their message do not unpickle, so the
    class, ``args`` and attributes travel apart and are put together again in the main process.
    """

    kind: type[BaseException] | None
    args: tuple[Any, ...]
    state: dict[str, Any]
    text: str
    remote_traceback: str

    @classmethod
    def of(cls, exc: BaseException) -> RemoteFailure:
        text = f"{type(exc).__name__}: {exc}"
        remote = "".join(traceback.format_exception(exc))
        state = {k: v for k, v in vars(exc).items() if not k.startswith("__")}
        try:
            pickle.loads(pickle.dumps((type(exc), exc.args, state)))
        except Exception:
            return cls(None, (), {}, text, remote)
        return cls(type(exc), exc.args, state, text, remote)

    def rebuild(self) -> BaseException:
        exc: BaseException
        try:
            if self.kind is None:
                raise TypeError(self.text)
            exc = self.kind.__new__(self.kind, *self.args)
            exc.args = self.args
            exc.__dict__.update(self.state)
        except Exception:
            exc = BatchError(f"a worker process raised {self.text}")
        exc.add_note(f"raised in a worker process:\n{self.remote_traceback}")
        return exc


def _worker_main(setup: Callable[[S], Callable[[T], R]], state: S, inbox: Queue[Any],
                 outbox: Queue[Any], slot: int, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        work = setup(state)
    except BaseException as exc:
        outbox.put((slot, None, False, RemoteFailure.of(exc)))
        return
    while True:
        try:
            item = inbox.get(timeout=POLL_S)
        except queue.Empty:
            if os.getppid() != parent:
                return
            continue
        if item is None:
            return
        task_id, task = item
        try:
            outbox.put((slot, task_id, True, work(task)))
        except BaseException as exc:
            outbox.put((slot, task_id, False, RemoteFailure.of(exc)))


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class LocalPool(Generic[S, T, R]):
    """Worker processes on this machine; use as a context manager around ``map_unordered``."""

    def __init__(self, setup: Callable[[S], Callable[[T], R]], state: S,
                 config: PoolConfig | None = None) -> None:
        self.setup = setup
        self.state = state
        self.config = config or PoolConfig()
        self.stats = PoolStats()
        self._context = mp.get_context("spawn")
        self._processes: list[BaseProcess] = []
        self._inboxes: list[Queue[Any]] = []
        self._outbox: Queue[Any] | None = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def __enter__(self) -> LocalPool[S, T, R]:
        self._outbox = self._context.Queue()
        for slot in range(self.config.workers):
            inbox: Queue[Any] = self._context.Queue()
            process = self._context.Process(
                target=_worker_main, name=f"modelport-worker-{slot}", daemon=True,
                args=(self.setup, self.state, inbox, self._outbox, slot, os.getpid()))
            process.start()
            self._inboxes.append(inbox)
            self._processes.append(process)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(graceful=kind is None)

    def close(self, *, graceful: bool = True) -> None:
        """Stop every worker: let them finish when ``graceful``, else terminate them now."""
        for inbox, process in zip(self._inboxes, self._processes, strict=True):
            if graceful and process.is_alive():
                inbox.put(None)
            else:
                inbox.cancel_join_thread()
        for process in self._processes:
            process.join(timeout=10 if graceful else 0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        for inbox in self._inboxes:
            inbox.close()
        if self._outbox is not None:
            self._outbox.cancel_join_thread()
            self._outbox.close()
        self._processes, self._inboxes, self._outbox = [], [], None

    def map_unordered(self, tasks: Iterable[T]) -> Iterator[R]:
        """Run every task on some worker; yield results as they finish; re-raise a worker's error."""
        if self._outbox is None:
            raise RuntimeError("the pool is not started: use it as a context manager")
        outbox = self._outbox
        held: list[deque[int]] = [deque() for _ in self._processes]
        source = iter(tasks)
        exhausted = False
        in_flight = 0
        next_id = 0
        while True:
            while not exhausted and in_flight < len(held) * self.config.depth:
                slot = min(range(len(held)), key=lambda s: len(held[s]))
                try:
                    task = next(source)
                except StopIteration:
                    exhausted = True
                    break
                self._inboxes[slot].put((next_id, task))
                held[slot].append(next_id)
                next_id += 1
                in_flight += 1
                self.stats.tasks += 1
                self.stats.peak_in_flight = max(self.stats.peak_in_flight, in_flight)
            if in_flight == 0:
                return
            try:
                slot, task_id, ok, payload = outbox.get(timeout=POLL_S)
            except queue.Empty:
                self._check_alive(held)
                continue
            if not ok:
                raise payload.rebuild()
            held[slot].remove(task_id)
            in_flight -= 1
            yield payload

    def _check_alive(self, held: list[deque[int]]) -> None:
        for slot, process in enumerate(self._processes):
            if not process.is_alive():
                tasks = list(held[slot])
                raise BatchError(f"worker process {process.pid} {_describe_exit(process.exitcode)}"
                                 + (f" while it held tasks {tasks}" if tasks else ""))
