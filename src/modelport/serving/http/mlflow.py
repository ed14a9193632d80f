"""MLflow scoring routes: ``/invocations``, ``/ping`` and ``/health``.

``/invocations`` serves the first model given to the server, or the one named in the
``Modelport-Model`` header as ``name`` or ``name:version``; an endpoint's name routes by its plan.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelport.rollout import routing
from modelport.serving.codecs import mlflow
from modelport.serving.http.endpoint import Call, Instrument, json_response, prediction_response, read_body
from modelport.serving.http.targets import choose as choose_target
from modelport.serving.http.targets import route_headers
from modelport.serving.service import ServedModel, Service

MODEL_HEADER = "modelport-model"


def choose(service: Service, header: str | None, request: Request, body: bytes
           ) -> tuple[ServedModel, routing.Route | None, str | None]:
    """The version that answers, the route (endpoints only) and the endpoint name."""
    if not header:
        return service.default(), None, None
    name, _, version = header.strip().partition(":")
    served, route = choose_target(service, name, version or None, request, body)
    return served, route, name if route is not None else None


def routes(service: Service, instrument: Instrument) -> list[Route]:
    config = service.config

    async def ping(request: Request, call: Call) -> Response:
        return json_response({"ready": service.ready}, 200 if service.ready else 503)

    async def invocations(request: Request, call: Call) -> Response:
        body = await read_body(request, config)
        served, route, endpoint = choose(service, request.headers.get(MODEL_HEADER), request, body)
        call.served, call.route = served, route
        content_type = request.headers.get("content-type", "")
        offload = len(body) > config.offload_bytes
        if offload:
            raw = await asyncio.to_thread(mlflow.decode, body, content_type)
        else:
            raw = mlflow.decode(body, content_type)
        answer = await service.predict(served, raw, proba=False, offload=offload, protocol="mlflow",
                                       endpoint=endpoint, route=route)
        content = mlflow.encode(answer.prediction, answer.ids)
        return prediction_response(content, "application/json", answer.ids, route_headers(served, route))

    return [
        Route("/ping", instrument.plain(ping), methods=["GET"]),
        Route("/health", instrument.plain(ping), methods=["GET"]),
        Route("/invocations", instrument("mlflow", invocations), methods=["POST"]),
    ]
