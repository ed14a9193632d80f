"""The local process pool: every task once, bounded read-ahead, errors and dead workers surfaced."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from modelport.core import allocator
from modelport.engines.local import LocalPool, PoolConfig, RemoteFailure
from modelport.errors import BatchError, IntegrityError


def _times(factor: int) -> Callable[[int], tuple[int, int, int]]:
    """Setup of the test workers; tasks report the pid that set up and the pid that ran them."""
    setup_pid = os.getpid()
    return lambda task: (task * factor, setup_pid, os.getpid())


def _raising(kind: str) -> Callable[[int], int]:
    def work(task: int) -> int:
        if task == 3:
            if kind == "integrity":
                raise IntegrityError("model/model.skops", "changed since packing")
            if kind == "die":
                os.kill(os.getpid(), signal.SIGKILL)
        return task

    return work


def _failing_setup(_: object) -> Callable[[int], int]:
    raise IntegrityError("manifest.json", "is missing")


def test_every_task_runs_once_on_workers_set_up_once() -> None:
    with LocalPool(_times, 10, PoolConfig(workers=2)) as pool:
        results = list(pool.map_unordered(range(40)))
        parent, *workers = pool.pids
    assert sorted(value for value, _, _ in results) == [i * 10 for i in range(40)]
    assert {setup_pid for _, setup_pid, _ in results} == {parent}
    assert {pid for _, _, pid in results} <= set(workers)
    assert len(workers) == 2
    assert os.getpid() not in (parent, *workers)


def test_read_ahead_is_bounded_by_workers_times_depth() -> None:
    taken: list[int] = []

    def tasks() -> Iterator[int]:
        for i in range(30):
            taken.append(i)
            yield i

    config = PoolConfig(workers=2, depth=2)
    with LocalPool(_times, 1, config) as pool:
        stream = pool.map_unordered(tasks())
        next(stream)
        # one result came back: at most the tasks the workers could hold were read, plus the next one
        assert len(taken) <= config.workers * config.depth + 1
        assert len(list(stream)) == 29
    assert 1 <= pool.stats.peak_in_flight <= config.workers * config.depth
    assert pool.stats.tasks == 30


def test_a_worker_error_is_raised_in_the_caller_with_its_data() -> None:
    with pytest.raises(IntegrityError) as caught, LocalPool(_raising, "integrity", PoolConfig(1)) as pool:
        list(pool.map_unordered(range(10)))
    assert caught.value.path == "model/model.skops"
    assert "changed since packing" in str(caught.value)
    assert any("raised in a worker process" in note for note in caught.value.__notes__)


def test_a_setup_error_is_raised_in_the_caller() -> None:
    with pytest.raises(IntegrityError, match="manifest.json"), \
            LocalPool(_failing_setup, None, PoolConfig(1)) as pool:
        list(pool.map_unordered(range(3)))


def test_a_dead_worker_fails_the_run_naming_what_it_held() -> None:
    with pytest.raises(BatchError, match=r"killed by SIGKILL while it held tasks \[3"), \
            LocalPool(_raising, "die", PoolConfig(workers=1, depth=1)) as pool:
        list(pool.map_unordered(range(10)))
    assert pool.pids == []


def test_an_exception_that_does_not_pickle_arrives_as_a_batch_error() -> None:
    class Local(Exception):
        pass

    rebuilt = RemoteFailure.of(Local("boom")).rebuild()
    assert isinstance(rebuilt, BatchError)
    assert "Local: boom" in str(rebuilt)


def test_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="workers"):
        PoolConfig(workers=0)
    with pytest.raises(ValueError, match="depth"):
        PoolConfig(workers=1, depth=0)


def _deferred(factor: int) -> Callable[[int], Future[int]]:
    """Setup of workers that hand each task to a thread and return its future (as batch storing does)."""
    threads: list[ThreadPoolExecutor] = []

    def work(task: int) -> Future[int]:
        if not threads:
            threads.append(ThreadPoolExecutor(1))
        if task == 13:
            return threads[0].submit(_raise_integrity)
        return threads[0].submit(lambda: task * factor)

    return work


def _raise_integrity() -> int:
    raise IntegrityError("model/model.skops", "changed since packing")


def test_a_future_sends_its_result_back_when_it_resolves() -> None:
    with LocalPool(_deferred, 3, PoolConfig(workers=2)) as pool:
        assert sorted(pool.map_unordered(range(12))) == [i * 3 for i in range(12)]
    with LocalPool(_deferred, 3, PoolConfig(workers=2)) as pool, \
            pytest.raises(IntegrityError, match="changed since packing"):
        list(pool.map_unordered(range(20)))


def _arrow_backend(_: object) -> Callable[[int], str]:
    import pyarrow as pa

    return lambda task: str(pa.default_memory_pool().backend_name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux wheels have jemalloc")
def test_the_pool_s_processes_start_with_its_environment_unless_already_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrow reads its allocator at import: what batch scoring sets for its workers
    environment = dict(allocator.ENVIRONMENT)
    assert environment == {"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    with LocalPool(_arrow_backend, None, PoolConfig(workers=1, environment=environment)) as pool:
        assert list(pool.map_unordered([0])) == ["jemalloc"]
    assert "ARROW_DEFAULT_MEMORY_POOL" not in os.environ  # set for the pool's start only
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")  # the user's choice stands
    with LocalPool(_arrow_backend, None, PoolConfig(workers=1, environment=environment)) as pool:
        assert list(pool.map_unordered([0])) == ["system"]
