"""What every route shares: bounded body reading, JSON answers, error mapping and request metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from modelport.errors import RequestTooLargeError
from modelport.rollout.routing import Route
from modelport.serving.codecs import jsonio
from modelport.serving.config import ServerConfig
from modelport.serving.http.errors import error_response
from modelport.serving.http.targets import bearer_ok
from modelport.serving.metrics import ServingMetrics
from modelport.serving.service import ServedModel, Service


@dataclass
class Call:
    """One request in flight: the served version it reached (for metric labels), once known."""

    served: ServedModel | None = None
    #: the routing decision, when the request came through an endpoint
    route: Route | None = None


Handler = Callable[[Request, Call], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


#: response header with the logged prediction ids, comma-separated, when a request has at most this many rows.
IDS_HEADER = "Modelport-Prediction-Ids"
IDS_HEADER_ROWS = 64


_IDS_HEADER_RAW = IDS_HEADER.lower().encode("latin-1")


def prediction_response(content: bytes, media_type: str, ids: list[str],
                        headers: dict[str, str]) -> Response:
    """An answer with its ids in the prediction-ids header (the body carries every id; the header
    only up to 64). The header goes straight into the raw list: through Starlette's mapping it cost
    every logged request about a microsecond."""
    response = Response(content, 200, headers or None, media_type=media_type)
    if ids and len(ids) <= IDS_HEADER_ROWS:
        response.raw_headers.append((_IDS_HEADER_RAW, ",".join(ids).encode("latin-1")))
    return response


def json_response(value: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.encode(value), status, headers, media_type="application/json")


async def read_body(request: Request, config: ServerConfig) -> bytes:
    """The whole body, refusing more than ``max_body_bytes`` before and while reading it."""
    limit = config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class InstrumentedEndpoint:
    """A prediction endpoint: never raises (errors become answers); counts, times, tracks in-flight."""

    def __init__(self, protocol: str, handler: Handler, service: Service, metrics: ServingMetrics) -> None:
        self.protocol = protocol
        self.handler = handler
        self.service = service
        self.metrics = metrics

    async def __call__(self, request: Request) -> Response:
        metrics = self.metrics
        token = self.service.config.inference_token
        if token is not None and not bearer_ok(request.headers, token):
            metrics.request(self.protocol, None, 401, 0.0)
            return json_response({"error": "this server requires Authorization: Bearer <inference token>"},
                                 401, {"WWW-Authenticate": "Bearer"})
        call = Call()
        started = time.perf_counter()
        metrics.in_flight.inc()
        try:
            response = await self.handler(request, call)
        except Exception as exc:
            response = error_response(exc)
        finally:
            metrics.in_flight.dec()
        seconds = time.perf_counter() - started
        metrics.request(self.protocol, call.served, response.status_code, seconds)
        if response.status_code >= 400 and call.served is not None:
            route = call.route
            path = request.scope.get("path_params", {})
            self.service.log_failure(call.served, self.protocol, response.status_code, seconds,
                                     endpoint=path.get("name") if route is not None else None,
                                     role=route.role if route is not None else "primary")
        return response


class Instrument:
    """Wraps prediction handlers: maps errors to answers and records count, latency, in-flight."""

    def __init__(self, service: Service, metrics: ServingMetrics) -> None:
        self.service = service
        self.metrics = metrics

    def __call__(self, protocol: str, handler: Handler) -> Endpoint:
        # a bound method, so Starlette wraps it as a request handler (an instance would be taken for ASGI)
        return InstrumentedEndpoint(protocol, handler, self.service, self.metrics).__call__

    def plain(self, handler: Handler) -> Endpoint:
        """Error mapping only, for metadata and health routes."""

        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, Call())
            except Exception as exc:
                return error_response(exc)

        return endpoint
