"""Pure traffic policy: an endpoint's deployment plan, and which version answers each request.

::

    plans = parse_plans(yaml.safe_load(text)["endpoints"])     # ConfigError names every problem
    decision = route(plan, request_key(plan_key, headers, body), random.random(), ready_refs)

No I/O here: the server owns the plans, the readiness of each version and the draw.
"""

from __future__ import annotations

from modelport.rollout.gates import Gates, MetricGate, parse_metric_gate
from modelport.rollout.plan import (
    ABTest,
    Arm,
    Canary,
    EndpointPlan,
    KeySource,
    collect_plans,
    format_duration,
    parse_duration,
    parse_plan,
    parse_plans,
)
from modelport.rollout.routing import Route, key_fraction, request_key, route

__all__ = [
    "ABTest", "Arm", "Canary", "EndpointPlan", "Gates", "KeySource", "MetricGate", "Route",
    "collect_plans", "format_duration", "key_fraction", "parse_duration", "parse_metric_gate",
    "parse_plan", "parse_plans", "request_key", "route",
]
