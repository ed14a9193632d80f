"""The admin API under ``/admin``: endpoint plans and canary state, and the actions that change them.

Every route requires ``Authorization: Bearer <MODELPORT_ADMIN_TOKEN>``, compared in constant time
(401 without it or with another). A server started without an admin token refuses every admin
route with 403, so the API is never open by accident. Routes::

    GET    /admin/endpoints                     every plan, its canary state, how this worker routes it
    GET    /admin/endpoints/{endpoint}          one of them
    GET    /admin/endpoints/{endpoint}/history  its changes: who, when, why, before and after
    PUT    /admin/endpoints/{endpoint}          {"plan": {...}, "reason": "..."}: set a plan
    DELETE /admin/endpoints/{endpoint}          {"reason": "..."}: retire the endpoint
    POST   /admin/endpoints/{endpoint}/promote  {"reason": "..."}: the canary becomes the primary
    POST   /admin/endpoints/{endpoint}/abort    {"reason": "..."}: the canary leaves, at once
    POST   /admin/endpoints/{endpoint}/rollback {"reason": "..."}: back to the last known-good version
    POST   /admin/reload                        re-read plans and aliases now (a poll does it each second)

Who made a change is the ``X-Modelport-User`` header, else the server's user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from modelport.app import rollout_actions
from modelport.app.plan_sync import PlanSync
from modelport.errors import ConfigError, NotFoundError, ProtocolError, RefError, RegistryError
from modelport.registry.endpoints import REMOVE, EndpointChange
from modelport.rollout.plan import parse_plan
from modelport.serving.codecs import jsonio
from modelport.serving.http.endpoint import json_response
from modelport.serving.http.errors import error_response
from modelport.serving.http.targets import bearer_ok

USER_HEADER = "x-modelport-user"
#: the most an admin call waits for this worker to load the versions a new plan names
APPLY_TIMEOUT_S = 300.0

Handler = Callable[[Request], Awaitable[Response]]


def _refused(token: str | None, request: Request) -> Response | None:
    if token is None:
        return json_response({"error": "the admin API is off: start the server with MODELPORT_ADMIN_TOKEN "
                                       "set to turn it on"}, 403)
    if not bearer_ok(request.headers, token):
        return json_response({"error": "the admin API requires Authorization: Bearer <admin token>"}, 401,
                             {"WWW-Authenticate": "Bearer"})
    return None


def _status(error: Exception) -> Response:
    if isinstance(error, ConfigError | ProtocolError | RefError):
        return json_response({"error": str(error)}, 400)
    if isinstance(error, RegistryError) and not isinstance(error, NotFoundError):
        return json_response({"error": str(error)}, 409)
    return error_response(error)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    document = jsonio.decode(raw)
    if not isinstance(document, dict):
        raise ProtocolError("the admin API takes a JSON object")
    return document


def routes(sync: PlanSync, token: str | None) -> list[BaseRoute]:
    registry = sync.registry
    service = sync.service

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            refused = _refused(token, request)
            if refused is not None:
                return refused
            try:
                return await handler(request)
            except Exception as exc:
                return _status(exc)

        return endpoint

    def who(request: Request) -> str:
        return request.headers.get(USER_HEADER) or f"{registry.config.user} (admin API)"

    def describe(endpoint: str) -> dict[str, Any]:
        record = registry.endpoints.require(endpoint)
        body = record.to_dict()
        deployment = service.deployments.get(endpoint)
        body["routing"] = None if deployment is None else deployment.to_dict(service.deployments.ready)
        body["warm"] = sync.warm()
        body["shadow_copies"] = dict(service.shadows.counts)
        return body

    async def apply(change: EndpointChange) -> Response:
        await asyncio.wait_for(sync.sync(), APPLY_TIMEOUT_S)
        body = change.to_dict()
        if change.plan is not None:
            body["status"] = await asyncio.to_thread(describe, change.endpoint)
        return json_response(body)

    async def list_all(request: Request) -> Response:
        records = await asyncio.to_thread(registry.endpoints.all)
        return json_response({"endpoints": [await asyncio.to_thread(describe, r.endpoint) for r in records]})

    async def get_one(request: Request) -> Response:
        return json_response(await asyncio.to_thread(describe, request.path_params["endpoint"]))

    async def history(request: Request) -> Response:
        changes = await asyncio.to_thread(registry.endpoints.history, request.path_params["endpoint"])
        return json_response({"history": [change.to_dict() for change in changes]})

    async def put(request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        body = await _body(request)
        if "plan" not in body:
            raise ProtocolError('expected {"plan": {...}, "reason": "..."}')
        plan = parse_plan(endpoint, body["plan"])
        change = await asyncio.to_thread(rollout_actions.put, registry, plan, who=who(request),
                                         reason=body.get("reason"))
        return await apply(change)

    async def remove(request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        body = await _body(request)
        change = await asyncio.to_thread(registry.endpoints.put, endpoint, None, action=REMOVE,
                                         who=who(request), reason=body.get("reason"))
        return await apply(change)

    def action(act: Callable[..., EndpointChange], default: str) -> Handler:
        async def handler(request: Request) -> Response:
            body = await _body(request)
            change = await asyncio.to_thread(act, registry, request.path_params["endpoint"], who=who(request),
                                             reason=str(body.get("reason") or default))
            return await apply(change)

        return handler

    async def reload(request: Request) -> Response:
        await asyncio.wait_for(sync.sync(), APPLY_TIMEOUT_S)
        return json_response({"endpoints": sorted(sync.plans)})

    return [
        Route("/admin/endpoints", guarded(list_all), methods=["GET"]),
        Route("/admin/endpoints/{endpoint}", guarded(get_one), methods=["GET"]),
        Route("/admin/endpoints/{endpoint}", guarded(put), methods=["PUT"]),
        Route("/admin/endpoints/{endpoint}", guarded(remove), methods=["DELETE"]),
        Route("/admin/endpoints/{endpoint}/history", guarded(history), methods=["GET"]),
        Route("/admin/endpoints/{endpoint}/promote",
              guarded(action(rollout_actions.promote, "promoted by hand")), methods=["POST"]),
        Route("/admin/endpoints/{endpoint}/abort",
              guarded(action(rollout_actions.abort, "aborted by hand")), methods=["POST"]),
        Route("/admin/endpoints/{endpoint}/rollback",
              guarded(action(rollout_actions.rollback, "rolled back by hand")), methods=["POST"]),
        Route("/admin/reload", guarded(reload), methods=["POST"]),
    ]
