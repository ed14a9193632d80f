"""The ASGI application: the three protocols, health probes, metrics and OpenAPI on one Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Lifespan, Receive, Scope, Send

from modelport.core.collector import freeze_loaded
from modelport.inference.model import LoadedModel
from modelport.predictions import PredictionLog
from modelport.serving.codecs import jsonio
from modelport.serving.config import ServerConfig
from modelport.serving.extensions import Extension
from modelport.serving.http import kserve, mlflow, oip, openapi
from modelport.serving.http.endpoint import Call, Instrument, InstrumentedEndpoint, json_response
from modelport.serving.http.errors import status_of
from modelport.serving.metrics import CONTENT_TYPE, ServingMetrics
from modelport.serving.service import Service

#: how often each process refreshes its CPU, memory and accelerator gauges.
RESOURCE_INTERVAL_S = 1.0

def build_service(models: list[LoadedModel] | list[tuple[str, str, LoadedModel]],
                  config: ServerConfig | None = None, metrics: ServingMetrics | None = None
                  ) -> tuple[Service, ServingMetrics]:
    """A service for ``models`` (loaded models, or (name, version, model) triples) wired to metrics."""
    metrics = metrics or ServingMetrics()
    log = None
    if config is not None and config.log is not None:
        settings = config.log
        log = PredictionLog(settings.root, flush_interval_s=settings.flush_interval_s,
                            max_queue_rows=settings.max_queue_rows, sample_rate=settings.sample_rate,
                            exclude=settings.exclude, hash=settings.hash, salt=settings.salt,
                            resource_interval_s=settings.resource_interval_s)
    service = Service(config, on_batch=metrics.batch, log=log)
    for entry in models:
        if isinstance(entry, tuple):
            name, version, model = entry
            service.add(model, name=name, version=version)
        else:
            service.add(entry)
    return service, metrics


class ServingApp(Starlette):
    """Starlette, with prediction routes dispatched straight to their endpoint.

    A POST to a prediction route skips Starlette's middleware stack and linear route scan (about a
    quarter of the event loop's time per request under load, measured with py-spy); the endpoints
    map every error to an answer themselves. Everything else takes the ordinary way.
    """

    def __init__(self, routes: list[BaseRoute], lifespan: Lifespan[Starlette], fast: list[Route]) -> None:
        super().__init__(routes=routes, lifespan=lifespan)
        self._fast = [(route.path_regex, route.endpoint) for route in fast]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            for regex, endpoint in self._fast:
                match = regex.match(path)
                if match is not None:
                    scope["app"] = self
                    scope["path_params"] = match.groupdict()
                    response = await endpoint(Request(scope, receive, send))
                    await response(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_app(service: Service, metrics: ServingMetrics,
               on_started: Callable[[], None] | None = None,
               extensions: Sequence[Extension] = ()) -> Starlette:
    """The application over ``service``; its lifespan golden-checks and warms up every model.

    ``on_started`` runs once that is done, just before the process starts taking requests.
    ``extensions`` add their routes after the built-in ones and run their tasks from then on until
    the application stops.
    """
    instrument = Instrument(service, metrics)
    spec: dict[str, bytes] = {}
    service.shadows.observe = metrics.shadow
    service.failure_status = status_of
    service.deployments.on_key_missing = lambda endpoint: metrics.key_missing.labels(endpoint).inc()

    async def healthz(request: Request, call: Call) -> Response:
        stalled = service.stalled()
        if stalled:
            return json_response({"live": False, "reasons": stalled}, 503)
        return json_response({"live": True})

    async def readyz(request: Request, call: Call) -> Response:
        body: dict[str, object] = {"ready": service.ready, "models": {
            s.key: s.reason for s in service.models}}
        return json_response(body, 200 if service.ready else 503)

    async def metrics_route(request: Request, call: Call) -> Response:
        if service.log is not None:
            metrics.log_stats(service.log.stats())
        return Response(metrics.render(service.devices), media_type=CONTENT_TYPE)

    async def openapi_route(request: Request, call: Call) -> Response:
        if "json" not in spec:
            spec["json"] = jsonio.encode(openapi.document(service))
        return Response(spec["json"], media_type="application/json")

    async def sample_resources() -> None:
        """Keep this process's resource gauges fresh for scrapes answered by another worker."""
        while True:
            metrics.resources.sample(service.devices)
            if service.log is not None:
                metrics.log_stats(service.log.stats())
            await asyncio.sleep(RESOURCE_INTERVAL_S)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sampler = asyncio.get_running_loop().create_task(sample_resources(), name="resource-sampler")
        await service.start()
        for extension in extensions:
            for step in extension.startup:
                await step()
        freeze_loaded()  # what the process loaded lives as long as it (core.collector)
        loop = asyncio.get_running_loop()
        tasks = [sampler, *(loop.create_task(task(), name=f"extension-{getattr(task, '__name__', 'task')}")
                            for extension in extensions for task in extension.tasks)]
        if on_started is not None:
            on_started()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await service.stop()

    plain = instrument.plain
    route_list = [
        *oip.routes(service, instrument),
        *kserve.routes(service, instrument),
        *mlflow.routes(service, instrument),
        Route("/healthz", plain(healthz), methods=["GET"]),
        Route("/readyz", plain(readyz), methods=["GET"]),
        Route("/metrics", plain(metrics_route), methods=["GET"]),
        Route("/openapi.json", plain(openapi_route), methods=["GET"]),
    ]
    fast = [route for route in route_list
            if route.methods == {"POST"}
            and isinstance(getattr(route.endpoint, "__self__", None), InstrumentedEndpoint)]
    added = [route for extension in extensions for route in extension.routes]
    return ServingApp([*route_list, *added], lifespan, fast)
