"""The micro-batcher with a real tiny predict function: coalescing, bounds, waiting only for
arrivals, and results and errors routed to their own callers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

import numpy as np
import pandas as pd
import pytest

from modelport.errors import NotReadyError, OverloadedError
from modelport.inference.model import Prediction
from modelport.serving.batcher import BatchRecord, MicroBatcher

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def double(frame: pd.DataFrame, *, proba: bool) -> Prediction:
    if (frame["x"] < 0).any():
        raise ValueError("negative input")
    values = frame["x"].to_numpy() * 2
    return Prediction(values, np.column_stack([values, -values]) if proba else None, ["a", "b"])


def _batcher(records: list[BatchRecord], **options: float) -> MicroBatcher:
    settings = {"max_batch_size": 64, "max_delay_s": 0.002, "max_queue": 1000, **options}
    return MicroBatcher(double, name="double", max_batch_size=int(settings["max_batch_size"]),
                        max_delay_s=settings["max_delay_s"], max_queue=int(settings["max_queue"]),
                        on_batch=records.append)


def _frame(*values: float) -> pd.DataFrame:
    return pd.DataFrame({"x": list(values)})


async def test_concurrent_callers_are_coalesced_and_get_their_own_rows() -> None:
    records: list[BatchRecord] = []
    batcher = _batcher(records, max_batch_size=16)
    batcher.start()
    try:
        futures = [batcher.enqueue(_frame(i, i + 0.5), proba=i % 2 == 0) for i in range(40)]
        results = await asyncio.gather(*futures)
    finally:
        await batcher.stop()
    for i, result in enumerate(results):
        assert result.values.tolist() == [2 * i, 2 * i + 1]
        if i % 2:  # did not ask: none, though its batch computed them for the callers who did
            assert result.probabilities is None
        else:
            assert result.probabilities is not None
            assert result.probabilities[:, 0].tolist() == [2 * i, 2 * i + 1]
    assert sum(r.requests for r in records) == 40
    assert len(records) < 40
    assert max(r.rows for r in records) <= 16


async def test_scores_for_on_batch_are_computed_without_reaching_callers_who_did_not_ask() -> None:
    records: list[BatchRecord] = []
    batcher = _batcher(records, max_batch_size=16)
    batcher.start()
    try:
        tags = [object() for _ in range(6)]
        results = await asyncio.gather(*(batcher.enqueue(_frame(i), proba=False, scores=True, tag=tag)
                                         for i, tag in enumerate(tags)))
    finally:
        await batcher.stop()
    assert all(result.probabilities is None for result in results)
    assert [result.values.tolist() for result in results] == [[2 * i] for i in range(6)]
    assert all(record.prediction.probabilities is not None for record in records)
    delivered = [item for record in records for item in record.delivered]
    assert [item.tag for item in delivered] == tags
    for record in records:  # each request's rows within its batch's prediction
        for item in record.delivered:
            assert record.prediction.values[item.start:item.stop].tolist() == [2 * tags.index(item.tag)]


async def test_a_lone_request_never_waits_for_company() -> None:
    records: list[BatchRecord] = []
    batcher = _batcher(records, max_delay_s=3600.0)
    batcher.start()
    try:
        result = await asyncio.wait_for(batcher.enqueue(_frame(1.0), proba=False), 60)
    finally:
        await batcher.stop()
    assert result.values.tolist() == [2.0]
    assert [(r.rows, r.requests) for r in records] == [(1, 1)]


async def test_a_forming_batch_waits_for_requests_on_their_way() -> None:
    records: list[BatchRecord] = []
    batcher = _batcher(records, max_delay_s=3600.0)
    batcher.start()
    validated = asyncio.Event()

    async def late_arrival() -> Prediction:
        with batcher.arriving():
            await validated.wait()
            future = batcher.enqueue(_frame(2.0), proba=False)
        return await future

    try:
        late = asyncio.ensure_future(late_arrival())
        await asyncio.sleep(0)
        first = batcher.enqueue(_frame(1.0), proba=False)
        await asyncio.sleep(0.01)
        assert not first.done()  # held back: another request is being validated
        validated.set()
        results = await asyncio.wait_for(asyncio.gather(first, late), 60)
    finally:
        await batcher.stop()
    assert [r.values.tolist() for r in results] == [[2.0], [4.0]]
    assert [(r.rows, r.requests) for r in records] == [(2, 2)]


async def test_a_failing_request_fails_alone() -> None:
    records: list[BatchRecord] = []
    batcher = _batcher(records)
    batcher.start()
    try:
        futures = [batcher.enqueue(_frame(v), proba=False) for v in (1.0, -1.0, 3.0)]
        results = await asyncio.gather(*futures, return_exceptions=True)
    finally:
        await batcher.stop()
    assert isinstance(results[1], ValueError)
    assert [r.values.tolist() for r in (results[0], results[2])] == [[2.0], [6.0]]  # type: ignore[union-attr]


async def test_a_full_queue_refuses_and_stop_releases_waiters() -> None:
    release = threading.Event()

    def blocked(frame: pd.DataFrame, *, proba: bool) -> Prediction:
        release.wait(60)
        return double(frame, proba=proba)

    batcher = MicroBatcher(blocked, name="blocked", max_batch_size=1, max_delay_s=0.0, max_queue=2)
    with pytest.raises(NotReadyError):
        batcher.enqueue(_frame(1.0), proba=False)
    batcher.start()
    running = batcher.enqueue(_frame(1.0), proba=False)
    while not batcher.running:
        await asyncio.sleep(0.001)
    queued = [batcher.enqueue(_frame(2.0), proba=False) for _ in range(2)]
    with pytest.raises(OverloadedError):
        batcher.enqueue(_frame(3.0), proba=False)
    release.set()
    assert (await running).values.tolist() == [2.0]
    await batcher.stop()
    for future in queued:  # answered, or released with NotReadyError: nobody waits forever
        with contextlib.suppress(NotReadyError):
            assert (await asyncio.wait_for(future, 30)).values.tolist() == [4.0]


def _threads_of(seen: list[str], quiet: list[bool]) -> MicroBatcher:
    def record_thread(frame: pd.DataFrame, *, proba: bool) -> Prediction:
        seen.append(threading.current_thread().name)
        return double(frame, proba=proba)

    batcher = MicroBatcher(record_thread, name="cheap", max_batch_size=64, max_delay_s=0.002,
                           max_queue=100, inline_below_s=0.5)
    batcher.quiet = lambda: quiet[0]
    return batcher


async def test_a_cheap_model_runs_on_the_event_loop_alone_or_batched() -> None:
    seen: list[str] = []
    quiet = [True]
    batcher = _threads_of(seen, quiet)
    batcher.start()
    try:
        first = await batcher.enqueue(_frame(1.0), proba=False)  # no cost known yet: model thread
        second = await batcher.enqueue(_frame(2.0), proba=False)
        with pytest.raises(ValueError, match="negative input"):
            await batcher.enqueue(_frame(-1.0), proba=False)
        quiet[0] = False  # other requests wait in the server: batch them instead
        burst = await asyncio.gather(*(batcher.enqueue(_frame(float(i)), proba=False) for i in range(10)))
    finally:
        await batcher.stop()
    loop_thread = threading.current_thread().name
    assert seen[0].startswith("model-cheap")
    assert seen[1:3] == [loop_thread, loop_thread]
    assert (first.values.tolist(), second.values.tolist()) == ([2.0], [4.0])
    assert [r.values.tolist() for r in burst] == [[2.0 * i] for i in range(10)]
    assert seen[3:] == [loop_thread]  # the whole burst in one call, on the loop too


async def test_inline_answers_are_off_when_the_threshold_is_zero() -> None:
    seen: list[str] = []
    batcher = _threads_of(seen, [True])
    batcher.inline_below_s = 0.0
    batcher.start()
    try:
        for value in range(3):
            await batcher.enqueue(_frame(float(value)), proba=False)
    finally:
        await batcher.stop()
    assert all(name.startswith("model-cheap") for name in seen)


async def test_under_load_a_forming_batch_takes_in_requests_the_loop_is_still_receiving() -> None:
    async def arrivals(batcher: MicroBatcher) -> list[BatchRecord]:
        async def late(turns: int) -> Prediction:
            for _ in range(turns):  # requests the loop parses one turn after another
                await asyncio.sleep(0)
            return await batcher.enqueue(_frame(float(turns)), proba=False)

        batcher.start()
        try:
            first = batcher.enqueue(_frame(0.0), proba=False)
            await asyncio.gather(first, *(late(turn) for turn in range(1, 9)))
        finally:
            await batcher.stop()
        return records

    records: list[BatchRecord] = []
    busy = _batcher(records, max_delay_s=5.0)
    busy.quiet = lambda: False  # other requests are in the server
    assert [r.requests for r in await arrivals(busy)] == [9]

    records = []
    quiet = _batcher(records, max_delay_s=5.0)
    quiet.quiet = lambda: True  # nothing else in the server: never wait
    assert (await arrivals(quiet))[0].requests < 9


async def test_a_cheap_model_that_was_slow_once_on_the_loop_moves_to_its_thread(
        caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    slow = [False]

    def sometimes_slow(frame: pd.DataFrame, *, proba: bool) -> Prediction:
        seen.append(threading.current_thread().name)
        if slow[0]:
            time.sleep(0.2)  # 40 times the 5 ms budget
        return double(frame, proba=proba)

    batcher = MicroBatcher(sometimes_slow, name="spiky", max_batch_size=64, max_delay_s=0.0,
                           max_queue=100, inline_below_s=0.005)
    batcher.start()
    try:
        await batcher.enqueue(_frame(1.0), proba=False)  # the warm-up: model thread, cost now known
        await batcher.enqueue(_frame(1.0), proba=False)  # cheap: on the loop
        slow[0] = True
        with caplog.at_level(logging.WARNING, logger="modelport.serving"):
            await batcher.enqueue(_frame(2.0), proba=False)  # on the loop, far over the budget
        slow[0] = False
        answer = await batcher.enqueue(_frame(3.0), proba=False)
    finally:
        await batcher.stop()
    loop_thread = threading.current_thread().name
    assert seen[1:3] == [loop_thread, loop_thread]
    assert seen[3].startswith("model-spiky")
    assert answer.values.tolist() == [6.0]
    assert batcher.inline_below_s == 0.0
    assert any("computes on its own thread from now on" in r.getMessage() for r in caplog.records)
