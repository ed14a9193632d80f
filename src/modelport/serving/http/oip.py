"""Open Inference Protocol v2 routes: server and model metadata, readiness, infer."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelport.errors import NotFoundError, Problem, ProtocolError, SchemaError
from modelport.predictions import FeedbackReceipt, FeedbackStore
from modelport.serving.codecs import jsonio, v2
from modelport.serving.http.endpoint import Call, Instrument, json_response, prediction_response, read_body
from modelport.serving.http.targets import choose, lookup, route_headers
from modelport.serving.service import ServedModel, Service

SERVER_VERSION = "0.1.0"
EXTENSIONS = ["binary_tensor_data"]


def model_metadata(service: Service, served: ServedModel) -> dict[str, Any]:
    model = served.model
    outputs = []
    for name in v2.output_names(model.signature, model.task):
        shape = [-1, len(model.labels or [])] if name == "probabilities" else [-1]
        datatype = "FP64" if name == "probabilities" else _prediction_datatype(served)
        outputs.append({"name": name, "datatype": datatype, "shape": shape})
    return {
        "name": served.name,
        "versions": [s.version for s in service.versions(served.name)],
        "platform": f"modelport-{model.flavor.name}",
        "inputs": [{"name": c.name, "datatype": v2.column_datatype(c), "shape": [-1]}
                   for c in model.signature.inputs],
        "outputs": outputs,
        "parameters": {"version": served.version, "digest": model.digest, "task": model.task,
                       "ready": served.ready, "state": served.state.value},
    }


def _prediction_datatype(served: ServedModel) -> str:
    model = served.model
    if model.task != "classification":
        return "FP64"
    labels = model.labels or []
    if labels and all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        return "INT64"
    return "BOOL" if labels and all(isinstance(v, bool) for v in labels) else "BYTES"


def _served(service: Service, request: Request, call: Call) -> ServedModel:
    params = request.path_params
    call.served = lookup(service, params["name"], params.get("version"))
    return call.served


def routes(service: Service, instrument: Instrument) -> list[Route]:
    config = service.config

    async def server_metadata(request: Request, call: Call) -> Response:
        return json_response({"name": "modelport", "version": SERVER_VERSION, "extensions": EXTENSIONS})

    async def live(request: Request, call: Call) -> Response:
        live = not service.stalled()
        return json_response({"live": live}, 200 if live else 503)

    async def ready(request: Request, call: Call) -> Response:
        return json_response({"ready": service.ready}, 200 if service.ready else 503)

    async def metadata(request: Request, call: Call) -> Response:
        return json_response(model_metadata(service, _served(service, request, call)))

    async def model_ready(request: Request, call: Call) -> Response:
        served = _served(service, request, call)
        body = {"name": served.name, "version": served.version, "ready": served.ready}
        if not served.ready:
            body["reason"] = served.reason
        return json_response(body, 200 if served.ready else 503)

    async def infer(request: Request, call: Call) -> Response:
        body = await read_body(request, config)
        header = request.headers.get(v2.HEADER_LENGTH)
        params = request.path_params
        served, route = choose(service, params["name"], params.get("version"), request, body, header)
        call.served, call.route = served, route
        model = served.model
        available = v2.output_names(model.signature, model.task)
        offload = len(body) > config.offload_bytes
        if offload:
            decoded = await asyncio.to_thread(v2.decode, body, header, model.signature, available)
        else:
            decoded = v2.decode(body, header, model.signature, available)
        answer = await service.predict(served, decoded.raw, proba=decoded.proba, offload=offload,
                                       protocol="v2", endpoint=params["name"], route=route)
        name, version = (served.name, served.version) if route is None else (params["name"], served.key)
        content, headers = v2.encode(decoded, answer.prediction, name, version, answer.ids)
        media = "application/octet-stream" if headers else "application/json"  # binary tensors or JSON
        headers.update(route_headers(served, route))
        return prediction_response(content, media, answer.ids, headers)

    async def feedback(request: Request, call: Call) -> Response:
        served = _served(service, request, call)
        log = service.log
        if log is None:
            raise NotFoundError("this server keeps no prediction log (started with --no-log-predictions), "
                                "so it has nowhere to join feedback")
        ids, labels, outcomes = parse_feedback(jsonio.decode(await read_body(request, config)))
        def store() -> FeedbackReceipt:
            log.flush()  # predictions still queued are matched too
            return FeedbackStore(log.root).add(served.name, ids, labels=labels, outcomes=outcomes)

        receipt = await asyncio.to_thread(store)
        body = receipt.to_dict()
        body.pop("segment", None)  # a server path is none of the caller's business
        return json_response(body)

    plain = instrument.plain
    infer_endpoint = instrument("v2", infer)
    return [
        Route("/v2", plain(server_metadata), methods=["GET"]),
        Route("/v2/health/live", plain(live), methods=["GET"]),
        Route("/v2/health/ready", plain(ready), methods=["GET"]),
        Route("/v2/models/{name}", plain(metadata), methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", plain(metadata), methods=["GET"]),
        Route("/v2/models/{name}/ready", plain(model_ready), methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}/ready", plain(model_ready), methods=["GET"]),
        Route("/v2/models/{name}/infer", infer_endpoint, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", infer_endpoint, methods=["POST"]),
        Route("/v2/models/{name}/feedback", plain(feedback), methods=["POST"]),
    ]


def parse_feedback(document: Any) -> tuple[list[Any], list[Any] | None, list[Any] | None]:
    """``{id, label}`` / ``{id, outcome}``, a list of them, or ``{"feedback": [...]}`` → columns."""
    items = document.get("feedback", document) if isinstance(document, dict) else document
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ProtocolError('expected {"id": ..., "label": ...}, a list of them, or {"feedback": [...]}')
    problems = [Problem(f"feedback[{n}]", "needs an id and a label or an outcome")
                for n, item in enumerate(items) if "id" not in item or not ({"label", "outcome"} & set(item))]
    if problems:
        raise SchemaError(problems)
    ids = [item["id"] for item in items]
    labels = [item.get("label") for item in items] if any("label" in i for i in items) else None
    outcomes = [item.get("outcome") for item in items] if any("outcome" in i for i in items) else None
    return ids, labels, outcomes
