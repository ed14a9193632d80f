"""The protocol-agnostic data plane: served model versions, their readiness, and predict.

Every protocol ends in :meth:`Service.predict`: ``LoadedModel.validate`` per request (so one bad
request never reaches a batch), then the version's micro-batcher, then ``LoadedModel.predict_frame``.
A version is ready only once its golden check passed in this process and a warm-up prediction on
its golden rows answered through that same path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from modelport.core.columns import ColumnRows
from modelport.errors import DeadlineExceededError, NotFoundError, NotReadyError
from modelport.inference import golden
from modelport.inference.model import LoadedModel, Prediction
from modelport.predictions import PredictionBatch, PredictionLog
from modelport.rollout.routing import Route
from modelport.serving.batch_logging import LogTag, log_delivered
from modelport.serving.batcher import BatchRecord, MicroBatcher
from modelport.serving.config import ServerConfig
from modelport.serving.deployments import Deployments
from modelport.serving.shadow import ShadowCopies, ShadowCopy

log = logging.getLogger("modelport.serving")


class State(StrEnum):
    """Where a served version stands; only READY takes traffic."""

    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass
class ServedModel:
    """One model version in this server: the loaded model, its batcher and its readiness."""

    name: str
    version: str
    model: LoadedModel
    batcher: MicroBatcher
    state: State = State.LOADING
    reason: str = "loading"
    #: served from the start (its readiness is the server's); False: loaded at run time for a plan
    pinned: bool = True
    #: the input column names, one object for every request (the log's writer caches by identity)
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.columns = tuple(self.model.signature.names)

    @property
    def ready(self) -> bool:
        return self.state is State.READY

    @property
    def key(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class Answer:
    """A request's prediction and the ids its rows were logged under (empty without a log)."""

    prediction: Prediction
    ids: list[str]
    #: the routing decision when the request came through an endpoint
    route: Route | None = None


class Service:
    """The models this process serves, by name and version, and the one way to predict with them."""

    def __init__(self, config: ServerConfig | None = None,
                 on_batch: Callable[[ServedModel, BatchRecord], None] | None = None,
                 log: PredictionLog | None = None) -> None:
        self.config = config or ServerConfig()
        self._on_batch = on_batch
        self._models: dict[str, dict[str, ServedModel]] = {}
        self._by_key: dict[str, ServedModel] = {}
        self._quiet: Callable[[], bool] | None = None
        #: where every prediction is recorded, off the request path; None: not recorded
        self.log = log
        #: endpoints and their plans: which version answers a request sent to an endpoint name
        self.deployments = Deployments(self._by_key.get)
        #: copies of requests for shadow versions, answered after the caller's and never returned
        self.shadows = ShadowCopies(self._shadow, self.config.shadow_queue)
        #: the status a failed shadow copy is logged with; the HTTP adapter, which owns the table of
        #: statuses, sets it (a shadow that refuses its copy's input is a 4xx, not a crash)
        self.failure_status: Callable[[BaseException], int] = lambda error: 500

    @property
    def models(self) -> list[ServedModel]:
        return [served for versions in self._models.values() for served in versions.values()]

    @property
    def ready(self) -> bool:
        """Every model served from the start is ready (versions a plan loads later do not count:
        one whose checks fail only never takes traffic)."""
        models = [served for served in self.models if served.pinned]
        return bool(models) and all(served.ready for served in models)

    def by_key(self, key: str) -> ServedModel | None:
        """The version served as ``name:version``, or None."""
        return self._by_key.get(key)

    def set_quiet(self, quiet: Callable[[], bool]) -> None:
        """Tell the batchers how to see that no other request waits (cheap models may then answer
        a lone request on the event loop); the HTTP server that runs this service provides it."""
        self._quiet = quiet
        for served in self.models:
            served.batcher.quiet = quiet

    def stalled(self) -> list[str]:
        """Why this process is not live: model calls running past ``stall_timeout_s``; empty if live."""
        limit = self.config.stall_timeout_s
        return [f"model {served.key} has been computing one batch for {busy:.0f} s (limit {limit:g} s)"
                for served in self.models if (busy := served.batcher.busy_for()) > limit]

    @property
    def devices(self) -> list[str]:
        """The accelerators models of this process run on (for resource metrics)."""
        return sorted({served.model.device for served in self.models if served.model.device != "cpu"})

    def add(self, model: LoadedModel, *, name: str | None = None, version: str | None = None,
            pinned: bool = True) -> ServedModel:
        """Serve ``model`` as ``name`` (default: its manifest name), ``version`` (default: digest prefix)."""
        name = name or model.name
        version = version or (model.digest[:12] or "0")
        versions = self._models.setdefault(name, {})
        if version in versions:
            raise ValueError(f"model {name} version {version} is served twice")
        config = self.config
        observe = self._on_batch

        def on_batch(record: BatchRecord) -> None:
            if observe is not None:
                observe(served, record)
            if record.delivered and self.log is not None:
                try:
                    log_delivered(self.log, served.name, served.version, served.columns, record)
                except Exception:  # the tags left without ids are logged request by request (those
                    # that asked for no probabilities without the scores the batch computed)
                    log.exception("logging a batch of %s failed; its requests are logged one by one",
                                  served.key)

        batcher = MicroBatcher(model.predict_frame, name=f"{name}:{version}",
                               max_batch_size=config.max_batch_size,
                               max_delay_s=config.max_batch_delay_ms / 1000, max_queue=config.max_queue,
                               retry_after=config.retry_after_s, on_batch=on_batch, join=model.join,
                               inline_below_s=config.inline_below_ms / 1000)
        batcher.quiet = self._quiet
        served = ServedModel(name, version, model, batcher, pinned=pinned)
        versions[version] = served
        self._by_key[served.key] = served
        return served

    async def attach(self, model: LoadedModel, *, name: str, version: str) -> ServedModel:
        """Serve another version while running: start its batcher, golden-check and warm it up.

        It takes traffic only once ready; a failed check leaves it FAILED, never routed to.
        """
        served = self.add(model, name=name, version=version, pinned=False)
        served.batcher.start()
        await self._make_ready(served)
        return served

    async def detach(self, key: str) -> None:
        """Stop serving a version loaded at run time (no plan routes to it any more)."""
        served = self._by_key.pop(key, None)
        if served is None:
            return
        versions = self._models.get(served.name, {})
        versions.pop(served.version, None)
        if not versions:
            self._models.pop(served.name, None)
        served.state, served.reason = State.LOADING, "unloaded"
        await served.batcher.stop()

    def get(self, name: str, version: str | None = None) -> ServedModel:
        """The named version, or the first one served under ``name``; NotFoundError otherwise."""
        versions = self._models.get(name)
        if not versions:
            raise NotFoundError(f"no model named {name!r} is served here")
        if version is None:
            return next(iter(versions.values()))
        served = versions.get(version)
        if served is None:
            raise NotFoundError(f"model {name!r} has no version {version!r} here "
                                f"(served: {', '.join(versions)})")
        return served

    def versions(self, name: str) -> list[ServedModel]:
        self.get(name)
        return list(self._models[name].values())

    def default(self) -> ServedModel:
        models = self.models
        if not models:
            raise NotFoundError("no model is served here")
        return models[0]

    async def start(self) -> None:
        """Start every batcher, then golden-check and warm up each version; failures stay not ready."""
        for served in self.models:
            served.batcher.start()
        self.shadows.start()
        await asyncio.gather(*(self._make_ready(served) for served in self.models))

    async def stop(self) -> None:
        """Stop the shadow copies and the batchers, then write out everything the log acknowledged."""
        await self.shadows.stop()
        for served in self.models:
            await served.batcher.stop()
            served.state, served.reason = State.LOADING, "stopped"
        if self.log is not None:
            await asyncio.to_thread(self.log.close)

    async def predict(self, served: ServedModel, raw: Any, *, proba: bool, offload: bool = False,
                      protocol: str = "", endpoint: str | None = None, route: Route | None = None,
                      role: str = "primary", primary_ids: Sequence[str] | None = None) -> Answer:
        """Validate ``raw`` against the version's signature, predict it through its batcher, log it.

        Through an endpoint (``route`` given), the log records the endpoint and the route's role, and
        the route's shadows get a copy of the request once this answer is ready.
        """
        if not served.ready:
            raise NotReadyError(served.key, served.reason, self.config.retry_after_s)
        started = time.perf_counter()
        log = self.log
        # monitoring needs a classifier's scores whatever the protocol asked for (for classifiers
        # packed as one-pass, probabilities cost nothing more)
        wanted = proba or (log is not None and served.model.task == "classification")
        if route is not None:
            role = route.role
        tag = None if log is None else LogTag(started, endpoint or served.name, protocol, role, primary_ids)
        rows, prediction = await self._infer(served, raw, proba=proba, offload=offload, tag=tag,
                                             scores=wanted)
        ids: list[str] = []
        if tag is not None and tag.ids is not None:
            ids = tag.ids  # logged with its model call's batch
        elif log is not None:
            # the raw columns or records as decoded are 3-10x cheaper to log than a validated frame
            logged = raw if isinstance(raw, dict | list) and not isinstance(rows, np.ndarray) else rows
            ids = log.submit(PredictionBatch(
                endpoint=endpoint or served.name, model=served.name, version=served.version, inputs=logged,
                columns=served.columns, predictions=prediction.values,
                probabilities=prediction.probabilities, labels=prediction.labels, protocol=protocol,
                latency_ms=(time.perf_counter() - started) * 1000, role=role, primary_ids=primary_ids))
        if route is not None and route.shadows:
            self.shadows.submit(ShadowCopy(endpoint or served.name, route.shadows, raw, proba, protocol,
                                           tuple(ids)))
        return Answer(prediction, ids, route)

    def log_failure(self, served: ServedModel, protocol: str, status: int, seconds: float, *,
                    endpoint: str | None = None, role: str = "primary",
                    primary_ids: Sequence[str] | None = None) -> None:
        """Record a request that got no prediction (its status and latency; no inputs); a shadow's
        failed copy records one row per primary row it copied, linked to it."""
        if self.log is not None:
            self.log.submit(PredictionBatch(endpoint=endpoint or served.name, model=served.name,
                                            version=served.version, inputs=None, protocol=protocol,
                                            status=status, latency_ms=seconds * 1000, role=role,
                                            rows=len(primary_ids) if primary_ids else 1,
                                            primary_ids=primary_ids or None))

    async def _shadow(self, copy: ShadowCopy, key: str) -> None:
        """Answer one shadow's copy of a request; its rows link to the primary's by id."""
        served = self._by_key.get(key)
        if served is None:
            raise NotReadyError(key, "no longer served here")
        started = time.perf_counter()
        try:
            await self.predict(served, copy.raw, proba=copy.proba, protocol=copy.protocol,
                               endpoint=copy.endpoint, role="shadow", primary_ids=copy.primary_ids or None)
        except Exception as exc:
            self.log_failure(served, copy.protocol, self.failure_status(exc), time.perf_counter() - started,
                             endpoint=copy.endpoint, role="shadow", primary_ids=copy.primary_ids)
            raise

    async def _infer(self, served: ServedModel, raw: Any, *, proba: bool, offload: bool,
                     observed: bool = True, tag: LogTag | None = None, scores: bool = False
                     ) -> tuple[Any, Prediction]:
        """Validate, then predict through the batcher; a ``tag`` goes with numeric rows only, whose
        batch is then logged as one (``batch_logging``). ``scores``: probabilities for the log; a
        request logged with its batch gets them only if it asked (``proba``), one logged on its own
        always (it logs them from its own prediction)."""
        batcher = served.batcher
        with batcher.arriving():
            if offload:
                frame, warnings = await asyncio.to_thread(served.model.validate_rows, raw)
            else:
                frame, warnings = served.model.validate_rows(raw)
            if tag is not None and type(frame) in (np.ndarray, ColumnRows):
                future = batcher.enqueue(frame, proba=proba, observed=observed, tag=tag, scores=scores)
            else:
                future = batcher.enqueue(frame, proba=proba or scores, observed=observed)
        timeout = self.config.request_timeout_s
        # one timer per request, cheaper than asyncio.wait_for's wrapper task and future
        expiry = asyncio.get_running_loop().call_later(timeout, _expire, future, timeout)
        try:
            result = await future
        finally:
            expiry.cancel()
        if not warnings:
            return frame, result
        return frame, Prediction(result.values, result.probabilities, result.labels, warnings)

    async def _make_ready(self, served: ServedModel) -> None:
        try:
            rows = await asyncio.to_thread(_golden_check, served.model)
            await self._infer(served, rows, proba=served.model.task == "classification", offload=True,
                              observed=False)
        except Exception as exc:
            served.state, served.reason = State.FAILED, f"{type(exc).__name__}: {exc}"
            log.error("model %s is not ready: %s", served.key, served.reason)
            return
        served.state, served.reason = State.READY, "ready"
        log.info("model %s is ready", served.key)


def _expire(future: asyncio.Future[Prediction], timeout: float) -> None:
    """Fail a request still waiting for its prediction; the batcher skips settled requests."""
    if not future.done():
        future.set_exception(DeadlineExceededError(timeout))


def _golden_check(model: LoadedModel) -> pd.DataFrame:
    """Re-run the golden check here; return the golden rows for the warm-up."""
    if model.path is None:
        raise NotReadyError(model.name, "no golden rows: the model was not loaded from an artifact")
    result = golden.run(model, model.path)
    if not result.passed:
        raise NotReadyError(model.name, f"golden check failed on rows {result.failed_rows} "
                            f"(largest difference {result.max_difference:.6g}, "
                            f"tolerance {result.tolerance:.3g})")
    return pd.read_parquet(model.path / golden.INPUTS)
