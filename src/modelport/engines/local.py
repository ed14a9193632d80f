"""A pool of worker processes that set up once, then run the tasks the main process feeds them.

The pool knows nothing of models or files: ``setup(state)`` returns the function that handles one
task (batch scoring loads the model there). It runs once, in a freshly spawned parent process of
the workers, which then forks them: every worker starts with the model loaded, and the memory of
the interpreter, the frameworks and the model is shared between them until written to. Tasks go to
each worker's own inbox, at most ``depth`` at a time, so the main process reads ahead while the
workers compute, never holds more than ``workers * depth`` tasks in flight, and knows which tasks a
worker held if it dies. Results come back unordered, as they finish. A handler may return a
``concurrent.futures.Future`` instead of its result (batch scoring stores a chunk on a thread while
it scores the next): the result goes back when the future resolves, and a worker asked to stop
first waits for the futures it still holds.

Pool processes ignore Ctrl-C (the main process stops them) and exit by themselves when the main
process is gone, so a killed run leaves no process behind.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing as mp
import os
import pickle
import queue
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from types import TracebackType
from typing import Any, Generic, TypeVar

from modelport.errors import BatchError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

#: how often pool processes look whether their parent is still there, and the main process whether
#: the pool is, in seconds
POLL_S = 0.5


@contextlib.contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` set for the processes started meanwhile, each unless already set."""
    added = {name: value for name, value in variables.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


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
    #: environment variables of the pool's processes, each unless this process has it set already
    #: (read at their start, as libraries read their settings at import)
    environment: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1, got {self.depth}")


@dataclass
class PoolStats:
    """What the pool did: tasks run, the most held in flight at once (the read-ahead bound), and the
    seconds from starting the pool until its workers were set up and forked."""

    tasks: int = 0
    peak_in_flight: int = 0
    ready_seconds: float | None = None


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


#: what a task's handler returns: the result, or a future of it
Work = Callable[[T], "R | concurrent.futures.Future[R]"]


class _Pending:
    """A worker's futures whose results have not been sent back yet."""

    def __init__(self, outbox: Queue[Any], slot: int) -> None:
        self.outbox = outbox
        self.slot = slot
        self.count = 0
        self.settled = threading.Condition()

    def add(self, task_id: int, future: concurrent.futures.Future[Any]) -> None:
        with self.settled:
            self.count += 1
        future.add_done_callback(lambda done: self._deliver(task_id, done))

    def _deliver(self, task_id: int, future: concurrent.futures.Future[Any]) -> None:
        try:
            exc = future.exception()
            if exc is None:
                self.outbox.put(("result", self.slot, task_id, future.result()))
            else:
                self.outbox.put(("error", self.slot, task_id, RemoteFailure.of(exc)))
        finally:
            with self.settled:
                self.count -= 1
                self.settled.notify_all()

    def drain(self) -> None:
        """Wait until every future has resolved and its result is on its way back."""
        with self.settled:
            self.settled.wait_for(lambda: self.count == 0)


def _worker_main(work: Work[T, R], inbox: Queue[Any], outbox: Queue[Any], slot: int,
                 parent: int) -> None:
    pending = _Pending(outbox, slot)
    while True:
        try:
            item = inbox.get(timeout=POLL_S)
        except queue.Empty:
            if os.getppid() != parent:  # orphaned: the pool's parent process is gone
                return
            continue
        if item is None:
            pending.drain()
            return
        task_id, task = item
        try:
            result = work(task)
        except BaseException as exc:
            outbox.put(("error", slot, task_id, RemoteFailure.of(exc)))
            continue
        if isinstance(result, concurrent.futures.Future):
            pending.add(task_id, result)
        else:
            outbox.put(("result", slot, task_id, result))


def _parent_main(setup: Callable[[S], Work[T, R]], state: S, inboxes: list[Queue[Any]],
                 outbox: Queue[Any], events: Queue[Any], main: int) -> None:
    """Set up once, fork the workers, report their pids, then report any that dies.

    The parent reports on ``events``, a queue no worker writes to: a worker killed while its queue
    thread was writing a result dies holding ``outbox``'s write lock, and a death reported there
    would never arrive.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        work = setup(state)
    except BaseException as exc:
        events.put(("error", -1, None, RemoteFailure.of(exc)))
        return
    fork = mp.get_context("fork")
    me = os.getpid()
    workers = [fork.Process(target=_worker_main, args=(work, inbox, outbox, slot, me), daemon=True,
                            name=f"modelport-worker-{slot}") for slot, inbox in enumerate(inboxes)]
    for worker in workers:
        worker.start()  # before anything starts this process's queue threads: fork copies one thread
    for slot, worker in enumerate(workers):
        events.put(("started", slot, None, worker.pid))
    running = dict(enumerate(workers))
    while running and os.getppid() == main:  # a dead process's children are handed to another at once
        wait([w.sentinel for w in running.values()], timeout=POLL_S)
        for slot, worker in list(running.items()):
            if worker.exitcode is not None:
                del running[slot]
                if worker.exitcode != 0:
                    events.put(("died", slot, None, worker.exitcode))


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class LocalPool(Generic[S, T, R]):
    """Worker processes on this machine; use as a context manager around ``map_unordered``."""

    def __init__(self, setup: Callable[[S], Work[T, R]], state: S,
                 config: PoolConfig | None = None) -> None:
        self.setup = setup
        self.state = state
        self.config = config or PoolConfig()
        self.stats = PoolStats()
        self._context = mp.get_context("spawn")
        self._parent: BaseProcess | None = None
        self._workers: dict[int, int] = {}
        self._inboxes: list[Queue[Any]] = []
        self._outbox: Queue[Any] | None = None
        self._events: Queue[Any] | None = None
        #: the parent's messages read while waiting for pids, for ``map_unordered`` to act on
        self._pending: deque[Any] = deque()
        self._entered = 0.0

    @property
    def pids(self) -> list[int]:
        """The workers' parent and its workers (waiting for the pids they have not reported yet)."""
        self._await_started()
        parent = [self._parent.pid] if self._parent is not None and self._parent.pid else []
        return parent + [self._workers[slot] for slot in sorted(self._workers)]

    def __enter__(self) -> LocalPool[S, T, R]:
        self._entered = time.perf_counter()
        self._outbox = self._context.Queue()
        self._events = self._context.Queue()
        self._inboxes = [self._context.Queue() for _ in range(self.config.workers)]
        self._parent = self._context.Process(
            target=_parent_main, name="modelport-workers",
            args=(self.setup, self.state, self._inboxes, self._outbox, self._events, os.getpid()))
        with _environment(self.config.environment):
            self._parent.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(graceful=kind is None)

    def close(self, *, graceful: bool = True) -> None:
        """Stop every worker: let them finish their tasks when ``graceful``, else terminate them now."""
        parent = self._parent
        if parent is None:
            return
        for inbox in self._inboxes:
            if graceful and parent.is_alive():
                inbox.put(None)
            else:
                inbox.cancel_join_thread()
        parent.join(timeout=30 if graceful else 0)
        if parent.is_alive():
            # its workers' pids cannot be reused while it lives; a worker that started after the last
            # report sees its parent go and exits by itself
            for pid in self._workers.values():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            parent.terminate()
            parent.join(timeout=10)
        if parent.is_alive():
            parent.kill()
            parent.join()
        for inbox in self._inboxes:
            inbox.close()
        for channel in (self._outbox, self._events):
            if channel is not None:
                channel.cancel_join_thread()
                channel.close()
        self._parent, self._workers, self._inboxes, self._outbox, self._events = None, {}, [], None, None
        self._pending.clear()

    def map_unordered(self, tasks: Iterable[T]) -> Iterator[R]:
        """Run every task on some worker; yield results as they finish; re-raise a worker's error."""
        if self._outbox is None or self._events is None:
            raise RuntimeError("the pool is not started: use it as a context manager")
        outbox, events = self._outbox, self._events
        held: list[deque[int]] = [deque() for _ in self._inboxes]
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
            message = self._next(outbox, events, held)
            if message is None:
                continue
            kind, slot, task_id, payload = message
            if kind == "started":
                self._workers[slot] = payload
                if self.stats.ready_seconds is None:
                    self.stats.ready_seconds = time.perf_counter() - self._entered
            elif kind == "died":
                pid = self._workers.get(slot, "?")
                tasks_held = list(held[slot])
                raise BatchError(f"worker process {pid} {_describe_exit(payload)}"
                                 + (f" while it held tasks {tasks_held}" if tasks_held else ""))
            elif kind == "error":
                raise payload.rebuild()
            else:
                held[slot].remove(task_id)
                in_flight -= 1
                yield payload

    def _next(self, outbox: Queue[Any], events: Queue[Any], held: list[deque[int]]) -> Any:
        """The next message: the parent's news first (a dead worker may have left the outbox
        unusable), then a result; None when neither came within the poll interval."""
        if self._pending:
            return self._pending.popleft()
        with contextlib.suppress(queue.Empty):
            return events.get_nowait()
        with contextlib.suppress(queue.Empty):
            return outbox.get(timeout=POLL_S)
        parent = self._parent
        if parent is not None and not parent.is_alive():
            with contextlib.suppress(queue.Empty):  # its last words, flushed as it exited
                return events.get(timeout=POLL_S)
            self._check_parent(held)
        return None

    def _await_started(self) -> None:
        """Read the parent's news until every worker has reported its pid (or the parent is gone)."""
        events, deadline = self._events, time.monotonic() + 30
        while events is not None and len(self._workers) < self.config.workers and time.monotonic() < deadline:
            try:
                message = events.get(timeout=POLL_S)
            except queue.Empty:
                if self._parent is None or not self._parent.is_alive():
                    return
                continue
            if message[0] == "started":
                self._workers[message[1]] = message[3]
            else:
                self._pending.append(message)

    def _check_parent(self, held: list[deque[int]]) -> None:
        parent = self._parent
        if parent is not None and not parent.is_alive():
            tasks = [t for slot in held for t in slot]
            raise BatchError(f"the workers' parent process {parent.pid} {_describe_exit(parent.exitcode)}"
                             + (f" while its workers held tasks {tasks}" if tasks else ""))
