"""The monitoring extension of the server: the live dashboard and drift/performance gauges on /metrics.

``modelport serve`` adds ``ExtensionSpec(FACTORY, options)`` to every worker. Options (all optional):

- ``dashboard`` (bool, default true): mount ``/dashboard`` (:mod:`modelport.app.dashboard`);
- ``refresh_s`` (default 10): how often the page redraws;
- ``cache_s`` (default 5): how long a computed report is reused;
- ``interval_s`` (default 60; 0 turns the gauges off): how often the gauges are recomputed;
- ``range`` (default ``"1h"``): the span of the log the gauges look back over.

Without a prediction log there is nothing to monitor: neither the dashboard nor the gauges are added.
With several workers (a ``shared_dir``), the worker holding an exclusive lock on a file there
computes the gauges and the others skip their turn; the lock goes with its holder when it dies, so
the next worker to try takes over. Every worker answers the dashboard from its own cache.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

from modelport.app.dashboard import routes
from modelport.app.gauges import MonitorGauges
from modelport.app.live import LiveMonitor
from modelport.errors import ConfigError, ProtocolError
from modelport.serving.extensions import Extension, ExtensionContext, Task

log = logging.getLogger("modelport.monitor")

FACTORY = "modelport.app.monitor:extension"
LOCK_FILE = "monitor-gauges.lock"


def _number(options: dict[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"monitor option {key} must be a number of seconds, not below 0; got {value!r}")
    return float(value)


class Leader:
    """Whether this process is the one worker that computes shared figures (always, without a folder)."""

    def __init__(self, shared_dir: Path | None) -> None:
        self.path = None if shared_dir is None else shared_dir / LOCK_FILE
        self._held: IO[bytes] | None = None

    def __call__(self) -> bool:
        if self.path is None or self._held is not None:
            return True
        handle = open(self.path, "ab")  # noqa: SIM115 (held open for as long as the lock is)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held = handle
        log.info("worker %d computes the monitoring gauges", os.getpid())
        return True


def gauge_task(monitor: LiveMonitor, gauges: MonitorGauges, since: str, interval_s: float,
               leader: Leader) -> Task:
    """Recompute every served version's gauges every ``interval_s`` seconds, while this worker leads."""

    async def refresh_monitor_gauges() -> None:
        while True:
            await asyncio.sleep(interval_s)  # a server that just started has nothing logged yet
            if leader():
                for model, versions in monitor.served.items():
                    for version in versions:
                        try:
                            live = await monitor.report(monitor.query(model, version, since))
                            gauges.update(model, version, live.report, live.until)
                        except Exception:  # the next round tries again; serving goes on regardless
                            log.exception("monitoring gauges of %s:%s not updated", model, version)

    return refresh_monitor_gauges


def extension(context: ExtensionContext) -> Extension:
    """The dashboard and gauges over the server's prediction log; nothing when it has none."""
    service = context.service
    options = dict(context.options)
    unknown = set(options) - {"dashboard", "refresh_s", "cache_s", "interval_s", "range"}
    if unknown:
        raise ConfigError(f"unknown monitor options: {', '.join(sorted(unknown))}")
    if service.log is None:
        return Extension()
    served: dict[str, dict[str, str]] = {}
    for model in service.models:
        served.setdefault(model.name, {})[model.version] = str(model.model.path)
    since = str(options.get("range", "1h"))
    monitor = LiveMonitor(service.log.root, served, cache_s=_number(options, "cache_s", 5.0))
    try:
        monitor.query(None, None, since)  # a bad range fails at start, not on every refresh
    except ProtocolError as exc:
        raise ConfigError(f"monitor range: {exc}") from exc
    mounted = routes(monitor, _number(options, "refresh_s", 10.0)) if options.get("dashboard", True) else []
    interval = _number(options, "interval_s", 60.0)
    tasks: list[Task] = []
    if interval > 0:
        gauges = MonitorGauges(context.metrics.registry)
        tasks.append(gauge_task(monitor, gauges, since, interval, Leader(context.shared_dir)))
    return Extension(routes=mounted, tasks=tasks)
