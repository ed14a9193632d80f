"""Monitoring reports of a running server's own prediction log, computed off the event loop, kept briefly.

A :class:`LiveMonitor` answers "the report of model M (one version, or the traffic callers saw
across versions) over the last SPAN, in windows of W" with :func:`modelport.reports.build_report`
on the rows the prediction log holds, so the dashboard and the Prometheus gauges show the numbers
``modelport monitor report`` computes. Reports run one at a time on a thread of their own (so they
never run on the event loop, and never take more than one core from serving), each is kept for
``cache_s`` seconds, and callers asking for the same report meanwhile share one computation. The
calculators fitted on a model's reference are kept and reused while the log's columns stay the same.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from modelport.errors import NotFoundError, ProtocolError
from modelport.predictions import joined
from modelport.reports import MonitorReport, Monitors, Reference, ReportConfig, build_report, fit_monitors
from modelport.reports.inputs import PREDICTION, ROLE, load_reference

#: a window span a range is cut into, the shortest giving at most ``MAX_AUTO_WINDOWS`` windows
NICE_WINDOWS = ("1s", "5s", "10s", "30s", "1min", "5min", "10min", "30min", "1h", "3h", "6h", "12h", "1D")
MAX_AUTO_WINDOWS = 30
#: most windows a range may be cut into when the caller names the window
MAX_WINDOWS = 500
#: longest range a live report covers (older predictions are for ``modelport monitor report``)
MAX_RANGE = pd.Timedelta("31D")
#: reports kept at once
CACHE_ENTRIES = 32


def parse_span(text: str, what: str) -> pd.Timedelta:
    """``15min``, ``1h``, ``7d`` as a positive span; ProtocolError naming ``what`` otherwise."""
    try:
        span = pd.Timedelta(text)
    except ValueError as exc:
        raise ProtocolError(f"{what} must be a span like 15min, 1h or 7d, not {text!r}") from exc
    if span <= pd.Timedelta(0):
        raise ProtocolError(f"{what} must be a positive span, not {text!r}")
    return span


def auto_window(span: pd.Timedelta) -> str:
    """The shortest nice window cutting ``span`` into at most ``MAX_AUTO_WINDOWS`` windows."""
    for name in NICE_WINDOWS:
        if span / pd.Timedelta(name) <= MAX_AUTO_WINDOWS:
            return name
    return NICE_WINDOWS[-1]


@dataclass(frozen=True)
class Query:
    """Which report: a model, one version (None: what callers were answered by), a range, a window."""

    model: str
    version: str | None
    since: str
    window: str


@dataclass(frozen=True)
class LiveReport:
    """A report of the range ``[start, until)`` and when it was computed."""

    query: Query
    start: pd.Timestamp
    until: pd.Timestamp
    report: MonitorReport


def callers(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows callers were answered with: shadow copies would count each request twice."""
    if ROLE not in frame:
        return frame
    return frame[frame[ROLE].astype(str) != "shadow"].reset_index(drop=True)


def utc_now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


class LiveMonitor:
    """Reports on the served models from the prediction log under ``root``.

    ``served`` maps each model name to its versions, each to the artifact path whose reference
    sample the report compares with (a report over every version uses the first version's).
    """

    def __init__(self, root: str | Path, served: Mapping[str, Mapping[str, str]], *, cache_s: float = 5.0,
                 config: ReportConfig | None = None, clock: Callable[[], pd.Timestamp] = utc_now) -> None:
        self.root = Path(root)
        self.served = {name: dict(versions) for name, versions in served.items()}
        self.cache_s = cache_s
        self.config = config or ReportConfig()
        self.clock = clock
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="live-monitor")
        self._references: dict[tuple[str, str], Reference] = {}
        self._monitors: dict[tuple[str, str], Monitors] = {}
        self._lock = threading.Lock()  # the executor has one thread; this guards direct calls too
        self._cache: OrderedDict[Query, tuple[float, asyncio.Future[LiveReport]]] = OrderedDict()

    def query(self, model: str | None = None, version: str | None = None, since: str = "1h",
              window: str | None = None) -> Query:
        """A checked query (the first served model when none is named; an automatic window)."""
        if model is None:
            if not self.served:
                raise NotFoundError("no model is served here")
            model = next(iter(self.served))
        versions = self.served.get(model)
        if versions is None:
            raise NotFoundError(f"no model named {model!r} is served here")
        if version is not None and version not in versions:
            raise NotFoundError(f"model {model!r} has no version {version!r} here "
                                f"(served: {', '.join(versions)})")
        span = parse_span(since, "since")
        if span > MAX_RANGE:
            raise ProtocolError(f"since must be at most {MAX_RANGE}; use `modelport monitor report` for more")
        if window is None:
            window = auto_window(span)
        elif span / parse_span(window, "window") > MAX_WINDOWS:
            raise ProtocolError(f"since={since} in windows of {window} makes more than {MAX_WINDOWS} windows")
        return Query(model, version, since, window)

    async def report(self, query: Query) -> LiveReport:
        """The report ``query`` asks for: a cached one younger than ``cache_s``, or a fresh one."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        cached = self._cache.get(query)
        if cached is not None and (now - cached[0] < self.cache_s or not cached[1].done()):
            return await asyncio.shield(cached[1])
        future = loop.run_in_executor(self._executor, self.compute, query)
        self._cache[query] = (now, future)
        self._cache.move_to_end(query)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        try:
            return await asyncio.shield(future)
        except BaseException:
            if self._cache.get(query, (0.0, None))[1] is future:
                del self._cache[query]  # a failure is not kept: the next caller tries again
            raise

    def compute(self, query: Query) -> LiveReport:
        """The report, computed now on this thread (blocking: file reads and every calculator)."""
        with self._lock:
            versions = self.served[query.model]
            reference_version = query.version or next(iter(versions))
            key = (query.model, reference_version)
            reference = self._references.get(key)
            if reference is None:
                reference = load_reference(versions[reference_version], f"{query.model}:{reference_version}")
                self._references[key] = reference
            until = self.clock()
            window = pd.Timedelta(query.window)
            start = (until - pd.Timedelta(query.since)).floor(window)  # type: ignore[arg-type]
            frame = joined(self.root, query.model, start, until, version=query.version)
            if query.version is None:
                frame = callers(frame)
            if PREDICTION not in frame:  # nothing answered yet (an empty log, or only failures)
                frame = frame.assign(**{PREDICTION: pd.Series([None] * len(frame), dtype=object)})
            monitors = fit_monitors(reference, frame, self.config, reuse=self._monitors.get(key))
            self._monitors[key] = monitors
            report = build_report(reference, frame, window=query.window, since=start, until=until,
                                  config=self.config, monitors=monitors)
            return LiveReport(query, start, until, report)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
