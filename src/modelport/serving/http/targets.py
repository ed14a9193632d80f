"""Which served version a prediction request reaches: a model by name (and version), or an endpoint.

An endpoint name is addressable exactly like a model name on every protocol; a request to it is
routed by its plan (:class:`modelport.serving.deployments.Deployments`). Naming a version
explicitly (``/v2/models/credit/versions/3/infer``, ``Modelport-Model: credit:3``) always goes
straight to that version. The answer says who answered in two headers.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.requests import Request

from modelport.rollout.routing import Route
from modelport.serving.service import ServedModel, Service

#: response headers naming the version that answered and why (endpoint requests only)
VERSION_HEADER = "Modelport-Version"
ROLE_HEADER = "Modelport-Role"
ARM_HEADER = "Modelport-Arm"


def choose(service: Service, name: str, version: str | None, request: Request, body: bytes,
           header_length: str | None = None) -> tuple[ServedModel, Route | None]:
    """The version that answers, and the route when ``name`` is an endpoint (None: a model asked by name)."""
    if version is None:
        deployment = service.deployments.get(name)
        if deployment is not None:
            return service.deployments.choose(deployment, request.headers, body, header_length)
    return service.get(name, version), None


def lookup(service: Service, name: str, version: str | None = None) -> ServedModel:
    """The version metadata and readiness routes describe: an endpoint's primary, or the model."""
    if version is None and name in service.deployments:
        return service.deployments.primary(name)
    return service.get(name, version)


def route_headers(served: ServedModel, route: Route | None) -> dict[str, str]:
    if route is None:
        return {}
    headers = {VERSION_HEADER: served.key, ROLE_HEADER: route.role}
    if route.arm is not None:
        headers[ARM_HEADER] = route.arm
    return headers


def bearer_ok(headers: Mapping[str, str], token: str) -> bool:
    """True when ``Authorization: Bearer <token>`` is present and right (compared in constant time)."""
    given = headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())
