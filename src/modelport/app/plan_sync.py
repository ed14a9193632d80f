"""Keeps this worker's endpoints equal to the plans in the registry, and its versions loaded.

Every ``poll_s`` (and at once after an admin call) a round reads the plans' revisions (one query)
and re-reads only the plans that changed; it then resolves every reference again, so an alias
moved by any process (``modelport alias set``, a rollback elsewhere) is followed within one poll.
A version a plan names that this worker does not serve is loaded (digests and lock verified),
golden-checked and warmed up before it takes traffic; one that fails its check stays loaded but
is never routed to. A version that no plan names any more is kept warm for ``keep_warm_s``
(so a rollback after a promotion is a pointer flip), then unloaded; versions served from the
start are never unloaded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modelport.core.refs import RefKind, parse_ref
from modelport.errors import ConfigError, ModelportError
from modelport.inference.load import load, verify
from modelport.inference.model import LoadedModel
from modelport.registry.endpoints import EndpointRecord
from modelport.registry.service import Registry
from modelport.rollout.plan import EndpointPlan, parse_plan
from modelport.serving.service import Service

log = logging.getLogger("modelport.rollout")


@dataclass(frozen=True)
class Resolution:
    """A reference resolved: the served key ``name:version`` and where its artifact is."""

    name: str
    version: str
    path: Path | None

    @property
    def key(self) -> str:
        return f"{self.name}:{self.version}"


class PlanSync:
    """One worker's follower of the registry's endpoint plans."""

    def __init__(self, service: Service, registry: Registry, *, allow_env_mismatch: bool = False,
                 device: str = "cpu", keep_warm_s: float = 600.0, poll_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.registry = registry
        self.allow_env_mismatch = allow_env_mismatch
        self.device = device
        self.keep_warm_s = keep_warm_s
        self.poll_s = poll_s
        self.clock = clock
        self.records: dict[str, EndpointRecord] = {}
        self.plans: dict[str, EndpointPlan] = {}
        #: references that never move (versions, digests, paths), resolved once
        self._fixed: dict[str, Resolution] = {}
        self._unreferenced_since: dict[str, float] = {}
        self._loading: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Sync every ``poll_s`` seconds for as long as the server runs."""
        while True:
            try:
                await self.sync()
            except Exception:  # the registry may be unreachable a moment: keep serving, try again
                log.exception("endpoint plans not synced this round")
            await asyncio.sleep(self.poll_s)

    async def sync(self) -> None:
        """One round: plans, references, loading, routing tables, unloading."""
        async with self._lock:
            await asyncio.to_thread(self._read_plans)
            resolved = await asyncio.to_thread(self._resolve_all)
            for resolution in resolved.values():
                if resolution is not None and self.service.by_key(resolution.key) is None:
                    await self._attach(resolution)
            deployments = self.service.deployments
            for endpoint, plan in self.plans.items():
                keys = {ref: found.key for ref in plan.refs() if (found := resolved.get(ref)) is not None}
                current = deployments.get(endpoint)
                if current is None or current.plan != plan or current.keys != keys:
                    deployments.set(plan, keys)
                    log.warning("endpoint %s now routes %s", endpoint, keys)
            for deployment in list(deployments):
                if deployment.plan.endpoint not in self.plans:
                    deployments.remove(deployment.plan.endpoint)
            await self._unload_cold()

    def _read_plans(self) -> None:
        store = self.registry.endpoints
        revisions = store.revisions()
        for endpoint in list(self.records):
            if endpoint not in revisions:
                del self.records[endpoint]
                self.plans.pop(endpoint, None)
        for endpoint, revision in revisions.items():
            known = self.records.get(endpoint)
            if known is not None and known.revision == revision:
                continue
            record = store.get(endpoint)
            if record is None:
                continue
            try:
                plan = parse_plan(endpoint, record.plan)
            except ConfigError as exc:  # written by hand into the database? keep the last good plan
                log.error("endpoint %s: stored plan refused: %s", endpoint, exc)
                continue
            self.records[endpoint], self.plans[endpoint] = record, plan

    def _resolve_all(self) -> dict[str, Resolution | None]:
        refs = {ref for plan in self.plans.values() for ref in plan.refs()}
        found: dict[str, Resolution | None] = {}
        for ref in refs:
            try:
                found[ref] = self.resolve(ref)
            except ModelportError as exc:
                log.error("cannot resolve %s: %s", ref, exc)
                found[ref] = None
        return found

    def resolve(self, ref: str) -> Resolution:
        """Where ``ref`` points now; versions, digests and paths are resolved once, aliases every time."""
        fixed = self._fixed.get(ref)
        if fixed is not None:
            return fixed
        parsed = parse_ref(ref)
        if parsed.kind in (RefKind.ALIAS, RefKind.NAME):
            try:
                version = self.registry.version_for(parsed)
            except ModelportError:
                if parsed.kind is RefKind.ALIAS:
                    raise
            else:
                return Resolution(version.name, str(version.version), None)
        resolved = self.registry.resolve(ref)
        if resolved.version is not None:
            found = Resolution(resolved.version.name, str(resolved.version.version), resolved.path)
        else:
            checked = verify(resolved.path, allow_env_mismatch=self.allow_env_mismatch)
            found = Resolution(checked.manifest.name, checked.digest[:12], checked.root)
        self._fixed[ref] = found
        return found

    def _open(self, resolution: Resolution) -> LoadedModel:
        path = resolution.path
        if path is None:
            path = self.registry.resolve(resolution.key, verify=True).path
        # load verifies every digest and the lock before it deserializes anything
        return load(path, allow_env_mismatch=self.allow_env_mismatch, golden_check=False,
                    device=self.device)

    async def _attach(self, resolution: Resolution) -> None:
        key = resolution.key
        try:
            model = await asyncio.to_thread(self._open, resolution)
        except ModelportError as exc:
            log.error("cannot load %s for its endpoint: %s", key, exc)
            return
        if self.service.by_key(key) is None:
            served = await self.service.attach(model, name=resolution.name, version=resolution.version)
            log.warning("loaded %s for an endpoint plan: %s", key, served.reason)

    async def _unload_cold(self) -> None:
        referenced = self.service.deployments.referenced()
        now = self.clock()
        for served in self.service.models:
            if served.pinned or served.key in referenced:
                self._unreferenced_since.pop(served.key, None)
                continue
            since = self._unreferenced_since.setdefault(served.key, now)
            if now - since >= self.keep_warm_s:
                self._unreferenced_since.pop(served.key, None)
                await self.service.detach(served.key)
                log.warning("unloaded %s: no plan has named it for %.0f s", served.key, self.keep_warm_s)

    def warm(self) -> dict[str, float]:
        """Versions kept warm though no plan names them, and for how many more seconds."""
        now = self.clock()
        return {key: max(0.0, self.keep_warm_s - (now - since))
                for key, since in self._unreferenced_since.items()}
