"""Extensions: extra routes and background tasks that the composition root adds to a server.

Serving knows nothing of what an extension does (a monitoring dashboard, drift gauges, a rollout's
promotion loop); it only mounts the routes an extension contributes and runs its tasks for as long
as the application lives. A worker process builds its extensions from :class:`ExtensionSpec` values,
which name an importable ``"module:function"`` factory (a closure would not survive being pickled to
a spawned worker) and carry plain settings::

    spec = ExtensionSpec("modelport.app.monitor:extension", {"interval_s": 60})
    extension = spec.build(ExtensionContext(service, metrics))

With several workers every worker builds its own; ``shared_dir`` is a folder all workers of one
server see (None with a single process), where extensions may coordinate, for example to let one
worker do work whose result every worker exports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from modelport.errors import ConfigError
from modelport.serving.metrics import ServingMetrics
from modelport.serving.service import Service

#: a background task: started once the service has started, cancelled when the application stops
Task = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Extension:
    """What an extension adds to a server: routes, tasks that run beside it, and steps that must be
    done before it takes requests (an endpoint's plan must be known before its first request)."""

    routes: Sequence[BaseRoute] = ()
    tasks: Sequence[Task] = ()
    #: awaited once the models are ready and before the process takes its first request
    startup: Sequence[Task] = ()


@dataclass(frozen=True)
class ExtensionContext:
    """What a factory is given: the process's service and metrics, the spec's settings, a shared folder."""

    service: Service
    metrics: ServingMetrics
    options: Mapping[str, Any] = field(default_factory=dict)
    shared_dir: Path | None = None


#: builds an extension for one server process
ExtensionFactory = Callable[[ExtensionContext], Extension]


@dataclass(frozen=True)
class ExtensionSpec:
    """An extension by name: its ``"module:function"`` factory and its settings (picklable)."""

    factory: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> ExtensionFactory:
        module_name, _, function = self.factory.partition(":")
        if not module_name or not function:
            raise ConfigError(f"extension {self.factory!r} must be named as 'module:function'")
        try:
            found = getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"extension {self.factory!r} cannot be imported: {exc}") from exc
        if not callable(found):
            raise ConfigError(f"extension {self.factory!r} is not callable")
        factory: ExtensionFactory = found
        return factory

    def build(self, service: Service, metrics: ServingMetrics, shared_dir: Path | None = None) -> Extension:
        context = ExtensionContext(service, metrics, dict(self.options), shared_dir)
        return self.load()(context)


def build_extensions(specs: Sequence[ExtensionSpec], service: Service, metrics: ServingMetrics,
                     shared_dir: Path | None = None) -> list[Extension]:
    """Every spec's extension for this process, in order."""
    return [spec.build(service, metrics, shared_dir) for spec in specs]
