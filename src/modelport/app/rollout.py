"""The rollout extension of the server: endpoint plans followed from the registry, the admin API,
and the canary promotion loop.

``modelport serve`` adds ``ExtensionSpec(FACTORY, options)`` to every worker. Options:

- ``registry`` (required): ``{"url", "artifacts", "user"}``, the registry holding the plans;
- ``admin_token``: the bearer token of ``/admin``; None or absent: the admin API refuses (403);
- ``poll_s`` (default 1): how often plans and aliases are re-read;
- ``keep_warm_s`` (default 600): how long a version no plan names any more stays loaded;
- ``canary_tick_s`` (default 5; 0: no loop): how often running canaries are judged;
- ``allow_env_mismatch``, ``device``: how versions a plan names are loaded.

Every worker follows the plans and answers the admin API; with several workers (a ``shared_dir``)
only the worker holding the canary lock runs the promotion loop. Without a prediction log a
canary has nothing to be judged on: the loop is not started and canaries move only by hand.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from modelport.app import admin
from modelport.app.canary_loop import LOCK_FILE, CanaryLoop
from modelport.app.monitor import Leader
from modelport.app.plan_sync import PlanSync
from modelport.errors import ConfigError
from modelport.registry.config import RegistryConfig
from modelport.registry.service import Registry
from modelport.serving.extensions import Extension, ExtensionContext, Task

log = logging.getLogger("modelport.rollout")

FACTORY = "modelport.app.rollout:extension"
OPTIONS = ("registry", "admin_token", "poll_s", "keep_warm_s", "canary_tick_s", "allow_env_mismatch",
           "device")


class _CanaryLeader(Leader):
    """The monitor's lock-file leadership, on a file of its own."""

    def __init__(self, shared_dir: Path | None) -> None:
        super().__init__(shared_dir)
        self.path = None if shared_dir is None else shared_dir / LOCK_FILE


def _seconds(options: dict[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"rollout option {key} must be a number of seconds, not below 0; got {value!r}")
    return float(value)


def extension(context: ExtensionContext) -> Extension:
    options = dict(context.options)
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ConfigError(f"unknown rollout options: {', '.join(sorted(unknown))}")
    where = options.get("registry")
    if not isinstance(where, dict):
        raise ConfigError("the rollout extension needs registry: {url, artifacts, user}")
    registry = Registry(RegistryConfig(url=str(where["url"]), artifacts=str(where["artifacts"]),
                                       user=str(where["user"])))
    poll = _seconds(options, "poll_s", 1.0) or 1.0
    sync = PlanSync(context.service, registry, allow_env_mismatch=bool(options.get("allow_env_mismatch")),
                    device=str(options.get("device", "cpu")),
                    keep_warm_s=_seconds(options, "keep_warm_s", 600.0), poll_s=poll)
    token = options.get("admin_token")
    tasks: list[Task] = []

    async def read_endpoint_plans() -> None:
        # every endpoint is known, and its versions loaded, before the first request
        try:
            await sync.sync()
        except Exception:  # the registry is down: serve the models, and follow plans once it is back
            log.exception("endpoint plans could not be read at start; retrying every %g s", poll)

    async def follow_endpoint_plans() -> None:
        await asyncio.sleep(poll)
        await sync.run()

    tasks.append(follow_endpoint_plans)
    tick = _seconds(options, "canary_tick_s", 5.0)
    service_log = context.service.log
    if tick > 0 and service_log is not None:
        loop = CanaryLoop(sync, Path(service_log.root), _CanaryLeader(context.shared_dir), tick)

        async def judge_canaries() -> None:
            await loop.run()

        tasks.append(judge_canaries)
    return Extension(routes=admin.routes(sync, str(token) if token else None), tasks=tasks,
                     startup=[read_endpoint_plans])
