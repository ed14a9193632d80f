"""Adaptive micro-batching for one model version: coalesce concurrent validated frames into one call.

A lone request goes straight to the model. While the model is busy, new requests queue up and
the next call takes them all (up to ``max_batch_size`` rows); it waits up to ``max_delay_s`` for
more only while other requests are known to be on their way (admitted, still being validated).
The model runs on one thread of its own so the event loop stays free; a failed batch is retried
request by request so one request's failure never becomes another's.

A cheap model (its calls average under ``inline_below_s``, measured) runs on the event loop
instead, batches included. Two threads on one core fight over the GIL: the model thread gives it
up inside every native call (each tree of a forest) and must then wait out the loop thread's
switch interval (5 ms) to get it back, so a 4 ms batch took tens of ms and the loop read requests
in dribs. Inline, the loop is busy for one short call, the requests that came meanwhile wait in
their sockets, and the next turn of the loop reads them all into the next batch. An idle cheap
model answers a lone request right away, from ``enqueue``, when the server says it is quiet
(``quiet``: no other HTTP request waiting, from uvicorn's own task set); under load requests are
batched as usual. Expensive models (and the first call, the warm-up, before any cost is known)
keep the model thread so the loop stays free for probes and other models. A model that is cheap on
average but took more than ``DEMOTE_FACTOR`` times the budget once on the loop (a slow path that
depends on the data) is moved to its thread for good, with a warning: one such call stalled every
request of the process, the next will not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from modelport.errors import NotReadyError, OverloadedError
from modelport.inference.model import Prediction


class PredictFrame(Protocol):
    """The shared prediction path, ``LoadedModel.predict_frame``."""

    def __call__(self, frame: pd.DataFrame, *, proba: bool) -> Prediction: ...


#: validated rows of one request (``LoadedModel.validate_rows``: a frame or a float matrix).
Rows = Any

#: one frame of the requests' rows, in order (``LoadedModel.join``).
Join = Callable[[list[Rows]], pd.DataFrame]


def concat(parts: list[Rows]) -> pd.DataFrame:
    """Join for callers that enqueue frames only."""
    frame: pd.DataFrame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return frame


#: turns of the event loop without a new request after which a forming batch stops waiting.
INGEST_IDLE_TURNS = 3

#: a call on the event loop taking this many times ``inline_below_s`` moves the model to its thread.
DEMOTE_FACTOR = 10.0

log = logging.getLogger("modelport.serving")


@dataclass(slots=True)
class Queued:
    """A request in the queue: its validated rows, what it asked for, its future and ``tag``.

    ``on_batch`` gets the tagged ones a model call answered as they are (``BatchRecord.delivered``),
    with ``start``, their first row in the batch's prediction, set: a per-request record made for
    the purpose (a named tuple) cost each logged request 0.3 µs."""

    frame: Rows
    #: the caller wants probabilities in its own prediction
    proba: bool
    future: asyncio.Future[Prediction]
    enqueued_at: float
    observed: bool
    tag: Any = None
    #: the model call computes probabilities for ``on_batch`` even if the caller wants none
    scores: bool = False
    #: its first row in the batch's prediction, once answered
    start: int = 0

    @property
    def computes_proba(self) -> bool:
        """Its model call computes probabilities, for the caller or for ``on_batch``."""
        return self.proba or self.scores

    @property
    def stop(self) -> int:
        """One past its last row in the batch's prediction."""
        return self.start + len(self.frame)


@dataclass(frozen=True)
class BatchRecord:
    """What one model call did: rows, requests coalesced, each request's queue wait, the outputs,
    and the tagged requests it answered (not those whose caller had gone)."""

    rows: int
    requests: int
    waits: tuple[float, ...]
    prediction: Prediction
    #: the tagged requests answered, in batch order, each with its ``start`` set
    delivered: Sequence[Queued] = ()


def slice_prediction(prediction: Prediction, start: int, stop: int, proba: bool = True) -> Prediction:
    """The rows ``start:stop`` of a batch's prediction; without probabilities unless ``proba``."""
    probabilities = prediction.probabilities
    return Prediction(prediction.values[start:stop],
                      None if probabilities is None or not proba else probabilities[start:stop],
                      prediction.labels)


def _run_batch(predict: PredictFrame, join: Join, parts: list[Rows], proba: bool) -> Prediction:
    return predict(join(parts), proba=proba)


class MicroBatcher:
    """Queue and coalesce predictions for one model version; call ``start`` inside the event loop."""

    def __init__(self, predict: PredictFrame, *, name: str, max_batch_size: int, max_delay_s: float,
                 max_queue: int, retry_after: float = 1.0,
                 on_batch: Callable[[BatchRecord], None] | None = None, join: Join = concat,
                 inline_below_s: float = 0.0) -> None:
        self._predict = predict
        self._join = join
        self.inline_below_s = inline_below_s
        #: running mean of a model call's seconds (None until the first call, the warm-up).
        self.call_seconds: float | None = None
        #: True when no other request is waiting in the server; None: never answer inline.
        self.quiet: Callable[[], bool] | None = None
        self.name = name
        self.max_batch_size = max_batch_size
        self.max_delay_s = max_delay_s
        self.max_queue = max_queue
        self.retry_after = retry_after
        self._on_batch = on_batch
        self._queue: deque[Queued] = deque()
        self._arriving = 0
        self._wakeup = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._worker: asyncio.Task[None] | None = None
        #: requests in the model call running now (0 while idle).
        self.running = 0
        #: loop time the running model call started, None while idle.
        self.busy_since: float | None = None

    @property
    def queued(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        if self._worker is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"model-{self.name}")
            self._worker = asyncio.get_running_loop().create_task(self._run(), name=f"batcher-{self.name}")

    async def stop(self) -> None:
        """Stop taking batches; requests still queued get NotReadyError."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while self._queue:
            item = self._queue.popleft()
            if not item.future.done():
                item.future.set_exception(NotReadyError(self.name, "the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Mark a request as on its way (being validated) so a forming batch may wait for it."""
        self._arriving += 1
        try:
            yield
        finally:
            self._arriving -= 1
            self._wakeup.set()

    def enqueue(self, frame: Rows, *, proba: bool, observed: bool = True, tag: Any = None,
                scores: bool = False) -> asyncio.Future[Prediction]:
        """Queue a validated frame; the future resolves to its own rows' prediction.

        ``observed=False`` (the warm-up) keeps the batch out of ``on_batch``, hence out of metrics.
        ``tag``: anything; ``on_batch`` gets the request back in ``BatchRecord.delivered`` once its
        rows are answered, before the caller resumes. ``scores``: the model call computes
        probabilities for ``on_batch`` (the log) even when this caller asked for none (``proba``);
        its own prediction then carries none.
        """
        if self._worker is None:
            raise NotReadyError(self.name, "the batcher is not running", self.retry_after)
        if len(self._queue) >= self.max_queue:
            raise OverloadedError(self.name, len(self._queue), self.retry_after)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Prediction] = loop.create_future()
        if self._inline_ok(len(frame)):
            self._run_inline(Queued(frame, proba, future, loop.time(), observed, tag, scores))
            return future
        self._queue.append(Queued(frame, proba, future, loop.time(), observed, tag, scores))
        self._wakeup.set()
        return future

    def _inline_ok(self, rows: int) -> bool:
        quiet = self.quiet
        return (self._cheap() and not self._queue and self.running == 0 and self._arriving <= 1
                and rows <= self.max_batch_size and quiet is not None and quiet())

    def _run_inline(self, item: Queued) -> None:
        self.running, self.busy_since = 1, item.enqueued_at
        try:
            prediction = self._on_loop([item.frame], item.computes_proba)
        except Exception as exc:
            item.future.set_exception(exc)
            return
        finally:
            self.running, self.busy_since = 0, None
        item.future.set_result(slice_prediction(prediction, 0, len(item.frame), item.proba))
        if self._on_batch is not None and item.observed:
            delivered = () if item.tag is None else (item,)
            self._on_batch(BatchRecord(len(item.frame), 1, (0.0,), prediction, delivered))

    def _timed(self, predict: PredictFrame, join: Join, parts: list[Rows], proba: bool) -> Prediction:
        """One model call, folded into the running mean of a call's cost (runs on either thread)."""
        started = time.perf_counter()
        prediction = _run_batch(predict, join, parts, proba)
        seconds = time.perf_counter() - started
        previous = self.call_seconds
        self.call_seconds = seconds if previous is None else 0.8 * previous + 0.2 * seconds
        return prediction

    def _on_loop(self, frames: list[Rows], proba: bool) -> Prediction:
        """A model call on the event loop; one far over the budget sends the model to its thread."""
        started = time.perf_counter()
        try:
            return self._timed(self._predict, self._join, frames, proba)
        finally:
            seconds = time.perf_counter() - started
            if seconds > DEMOTE_FACTOR * self.inline_below_s:
                log.warning("model %s took %.3f s on the event loop (budget %.3f s); it computes on "
                            "its own thread from now on", self.name, seconds, self.inline_below_s)
                self.inline_below_s = 0.0

    def _take(self, batch: list[Queued], rows: int) -> int:
        """Move queued, still-wanted items into ``batch`` while they fit; return the row count."""
        while self._queue:
            item = self._queue[0]
            if item.future.done():  # its caller timed out or went away
                self._queue.popleft()
                continue
            if batch and rows + len(item.frame) > self.max_batch_size:
                break
            batch.append(self._queue.popleft())
            rows += len(item.frame)
        return rows

    async def _gather(self) -> list[Queued]:
        batch: list[Queued] = []
        rows = self._take(batch, 0)
        if not batch or rows >= self.max_batch_size or self.max_delay_s <= 0:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_delay_s
        if not self._arriving:
            return await self._ingest(batch, rows, deadline)
        while self._arriving and rows < self.max_batch_size:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            rows = self._take(batch, rows)
        return batch

    async def _ingest(self, batch: list[Queued], rows: int, deadline: float) -> list[Queued]:
        """Under load, let the event loop take in the requests it has already received first.

        While the model ran, the loop (sharing the CPU) fell behind: requests wait unread in their
        sockets. Starting the next call at once would give it a handful of rows and starve the loop
        again; instead yield while each turn of the loop brings more rows (and other requests are
        known to be in the server), up to the batch size or the delay bound.
        """
        quiet = self.quiet
        if quiet is None or quiet():
            return batch
        loop = asyncio.get_running_loop()
        idle_turns = 0
        while rows < self.max_batch_size and loop.time() < deadline and idle_turns < INGEST_IDLE_TURNS:
            before = rows
            await asyncio.sleep(0)
            rows = self._take(batch, rows)
            idle_turns = 0 if rows > before or self._arriving else idle_turns + 1
        return batch

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._gather()
            if batch:
                await self._execute(batch)

    async def _call(self, frames: list[Rows], proba: bool) -> Prediction:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._timed, self._predict, self._join, frames,
                                          proba)

    def busy_for(self) -> float:
        """Seconds the running model call has taken so far; 0 while idle."""
        if self.busy_since is None:
            return 0.0
        return asyncio.get_running_loop().time() - self.busy_since

    def _cheap(self) -> bool:
        cost = self.call_seconds
        return cost is not None and cost < self.inline_below_s

    async def _execute(self, items: list[Queued]) -> None:
        started = asyncio.get_running_loop().time()
        self.running, self.busy_since = len(items), started
        frames = [item.frame for item in items]
        proba = any(item.computes_proba for item in items)
        try:
            if self._cheap():
                prediction = self._on_loop(frames, proba)
            else:
                prediction = await self._call(frames, proba)
        except asyncio.CancelledError:  # stopping mid-call: nobody may be left waiting
            for item in items:
                _settle_error(item, NotReadyError(self.name, "the server is shutting down"))
            raise
        except Exception as exc:
            self.running, self.busy_since = 0, None
            if len(items) == 1:
                _settle_error(items[0], exc)
            else:
                for item in items:
                    await self._execute([item])
            return
        self.running, self.busy_since = 0, None
        start = 0
        delivered: list[Queued] = []
        for item in items:
            stop = start + len(item.frame)
            if not item.future.done():
                item.future.set_result(slice_prediction(prediction, start, stop, item.proba))
                if item.tag is not None:
                    item.start = start
                    delivered.append(item)
            start = stop
        if self._on_batch is not None and any(item.observed for item in items):
            waits = tuple(started - item.enqueued_at for item in items)
            self._on_batch(BatchRecord(start, len(items), waits, prediction, delivered))


def _settle_error(item: Queued, exc: Exception) -> None:
    if not item.future.done():
        item.future.set_exception(exc)
