"""KServe v1 routes: model readiness and ``:predict``."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelport.serving.codecs import v1
from modelport.serving.http.endpoint import Call, Instrument, json_response, prediction_response, read_body
from modelport.serving.http.targets import choose, lookup, route_headers
from modelport.serving.service import Service


def routes(service: Service, instrument: Instrument) -> list[Route]:
    config = service.config

    async def model_ready(request: Request, call: Call) -> Response:
        name = request.path_params["name"]
        if name.endswith(":predict"):  # matched here, being a GET: the path is the predict verb's
            return json_response({"error": f"{request.url.path} takes POST, not GET"}, 405, {"Allow": "POST"})
        served = lookup(service, name)
        body = {"name": served.name, "version": served.version, "ready": served.ready}
        return json_response(body, 200 if served.ready else 503)

    async def predict(request: Request, call: Call) -> Response:
        body = await read_body(request, config)
        name = request.path_params["name"]
        served, route = choose(service, name, None, request, body)
        call.served, call.route = served, route
        offload = len(body) > config.offload_bytes
        raw = await asyncio.to_thread(v1.decode, body) if offload else v1.decode(body)
        answer = await service.predict(served, raw, proba=False, offload=offload, protocol="v1",
                                       endpoint=name, route=route)
        content = v1.encode(answer.prediction, answer.ids)
        return prediction_response(content, "application/json", answer.ids, route_headers(served, route))

    return [
        Route("/v1/models/{name}", instrument.plain(model_ready), methods=["GET"]),
        Route("/v1/models/{name}:predict", instrument("v1", predict), methods=["POST"]),
    ]
