"""Log a model call's predictions as one batch, not one per request.

Under load a model call answers dozens of one-row requests. Logged one by one, each costs the
request path a ``PredictionBatch`` and the writer thread a queue entry to convert, and the queue's
thousands of entries a second keep the garbage collector busy: about a sixth of the server's time
on a 100-tree forest at 64 connections. So a request whose validated rows are a numeric matrix or
columns of mixed types (``ColumnRows``) is enqueued with a :class:`LogTag`; when its model call
returns, before any caller resumes, the batch's requests are logged as one ``PredictionBatch`` per
(endpoint, protocol, role, kind of rows) with their rows stacked, each request's latency per row,
and fresh ids handed back through the tags. The validated values are what is logged, typed as the
model got them. Requests validated through a frame (anything unusual) keep the per-request path,
which logs their decoded body.

A request's logged latency runs from the start of its ``Service.predict`` to the end of its model
call: its validation, queueing and share of the batch, not the encoding of its answer.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from modelport.predictions import PredictionBatch, PredictionLog
from modelport.predictions.records import new_ids
from modelport.serving.batcher import BatchRecord, Queued


@dataclass(slots=True)
class LogTag:
    """What the log needs of one request besides its rows and outputs; ``ids`` once logged."""

    started: float
    endpoint: str
    protocol: str
    role: str
    primary_ids: Sequence[str] | None = None
    #: the ids its rows were logged under, set when its model call is logged
    ids: list[str] | None = None


def log_delivered(log: PredictionLog, model: str, version: str, columns: Sequence[str],
                  record: BatchRecord) -> None:
    """Submit the tagged requests of ``record`` to ``log`` and give each tag its ids."""
    now = time.perf_counter()
    if record.rows == record.requests == len(record.delivered) and _log_uniform(log, model, version,
                                                                                columns, record, now):
        return
    for (endpoint, protocol, role, linked, matrix), group in _groups(record.delivered).items():
        sizes = [item.stop - item.start for item in group]
        rows = sum(sizes)
        prediction = record.prediction
        values, probabilities = prediction.values, prediction.probabilities
        if len(group) != record.requests or rows != record.rows:  # not the whole batch: its own rows
            index = np.concatenate([np.arange(item.start, item.stop) for item in group])
            values = np.asarray(values)[index]
            probabilities = None if probabilities is None else probabilities[index]
        inputs = _matrix(group) if matrix else _columns(group, columns)
        latency: float | np.ndarray = (now - group[0].tag.started) * 1000  # a lone request: one value
        if len(group) > 1:
            latency = np.repeat((now - np.array([item.tag.started for item in group])) * 1000, sizes)
        primary = (list(itertools.chain.from_iterable(item.tag.primary_ids for item in group))
                   if linked else None)
        ids = new_ids(rows)
        log.submit(PredictionBatch(endpoint=endpoint, model=model, version=version, inputs=inputs,
                                   columns=columns, predictions=values, probabilities=probabilities,
                                   labels=prediction.labels, protocol=protocol, role=role,
                                   latency_ms=latency, ids=ids, primary_ids=primary))
        start = 0
        for item, size in zip(group, sizes, strict=True):
            item.tag.ids = ids[start:start + size]
            start += size


def _log_uniform(log: PredictionLog, model: str, version: str, columns: Sequence[str],
                 record: BatchRecord, now: float) -> bool:
    """The common case under load, in one pass: every request of the call answered, one numeric
    row each, alike in endpoint, protocol and role, none linked to a primary. False (nothing
    logged, no ids kept) when the call is not like that."""
    delivered = record.delivered
    first = delivered[0].tag
    endpoint, protocol, role = first.endpoint, first.protocol, first.role
    ids = new_ids(record.rows)
    frames: list[np.ndarray] = []
    started: list[float] = []
    for item, one in zip(delivered, ids, strict=True):
        tag: LogTag = item.tag
        frame = item.frame
        if (type(frame) is not np.ndarray or len(frame) != 1 or tag.primary_ids is not None
                or tag.endpoint != endpoint or tag.protocol != protocol or tag.role != role):
            return False
        frames.append(frame)
        started.append(tag.started)
        tag.ids = [one]
    prediction = record.prediction
    log.submit(PredictionBatch(endpoint=endpoint, model=model, version=version, inputs=np.concatenate(frames),
                               columns=columns, predictions=prediction.values,
                               probabilities=prediction.probabilities, labels=prediction.labels,
                               protocol=protocol, role=role, latency_ms=(now - np.array(started)) * 1000,
                               ids=ids, primary_ids=None))
    return True


def _groups(delivered: Sequence[Queued]) -> dict[tuple[str, str, str, bool, bool], list[Queued]]:
    """The requests by what their batch entry shares: endpoint, protocol, role, whether they carry
    primary ids, whether their rows are a matrix (else ``ColumnRows``)."""
    groups: dict[tuple[str, str, str, bool, bool], list[Queued]] = {}
    for item in delivered:
        tag: LogTag = item.tag
        key = (tag.endpoint, tag.protocol, tag.role, tag.primary_ids is not None,
               type(item.frame) is np.ndarray)
        group = groups.get(key)
        if group is None:
            groups[key] = [item]
        else:
            group.append(item)
    return groups


def _matrix(group: list[Queued]) -> np.ndarray:
    return group[0].frame if len(group) == 1 else np.concatenate([item.frame for item in group])


def _columns(group: list[Queued], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The validated columns of mixed-type requests (``ColumnRows``), stacked per column."""
    if len(group) == 1:
        return dict(zip(names, group[0].frame.columns, strict=True))
    return {name: np.concatenate([item.frame.columns[j] for item in group]) for j, name in enumerate(names)}
