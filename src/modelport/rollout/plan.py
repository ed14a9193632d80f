"""The deployment plan of an endpoint as frozen data: primary, canary with steps and gates, shadows, A/B arms.

An endpoint (the name clients call) serves one plan over model references::

    endpoints:
      credit:
        primary: credit@production
        canary:
          ref: credit:4
          steps: [1, 5, 25, 50, 100]     # or "1,5,25,50,100"; percent of traffic
          interval: 5m                   # 30s, 5m, 1h or seconds
          gates:
            min_requests: 200
            max_error_rate: 0.01
            max_p99_ratio: 1.2
            max_disagreement: 0.05
            metric: conversion>=baseline
        shadows: [credit:5]
      pricing:
        ab:
          arms: {control: pricing:1, treatment: pricing:2}
          split: [50, 50]                # or 50: the first arm's percent
          key: header:X-User-Id          # or field:user_id
          salt: 2026-03-pricing          # optional: a new salt reshuffles which key lands on which arm

:func:`parse_plans` reads that mapping (``endpoints:`` of a ``modelport serve --config`` file, or an
admin API body) and names every problem at once; :meth:`EndpointPlan.to_dict` writes a plan back in
the same form, for the registry history. Nothing here resolves a reference or does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from modelport.errors import ConfigError
from modelport.rollout.gates import Gates, MetricGate, parse_metric_gate

__all__ = ["ABTest", "Arm", "Canary", "EndpointPlan", "Gates", "KeySource", "MetricGate",
           "collect_plans", "format_duration", "parse_duration", "parse_metric_gate", "parse_plan",
           "parse_plans"]

DEFAULT_STEPS = (1.0, 5.0, 25.0, 50.0, 100.0)
DEFAULT_INTERVAL_S = 300.0
KEY_KINDS = ("header", "field")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@dataclass(frozen=True)
class KeySource:
    """Where a request's sticky key comes from: an HTTP header or a field of the request body."""

    kind: str
    name: str

    @classmethod
    def parse(cls, text: str) -> KeySource:
        kind, _, name = text.partition(":")
        if kind not in KEY_KINDS or not name.strip() or name != name.strip():
            raise ValueError(f"key must be header:NAME or field:NAME, got {text!r}")
        return cls(kind, name.lower() if kind == "header" else name)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Canary:
    """A candidate taking ``weight`` percent of traffic, moved through ``steps`` when its gates pass."""

    ref: str
    steps: tuple[float, ...] = DEFAULT_STEPS
    interval_s: float = DEFAULT_INTERVAL_S
    gates: Gates = field(default_factory=Gates)
    #: the percent of traffic it takes now; a new canary starts at the first step
    weight: float = DEFAULT_STEPS[0]
    #: when set, a request with a key keeps its side as the weight grows (by a hash of the key)
    key: KeySource | None = None
    #: mixed into the key's hash: another salt puts other keys first on the canary
    salt: str = ""

    @property
    def analysed_steps(self) -> tuple[float, ...]:
        """The steps whose traffic is analysed: every step below 100 (at 100 % no primary is left to
        compare with, so reaching it is the promotion)."""
        return tuple(step for step in self.steps if step < 100.0)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ref": self.ref, "steps": [_number(s) for s in self.steps],
                                "interval": format_duration(self.interval_s),
                                "gates": self.gates.to_dict(), "weight": _number(self.weight)}
        if self.key is not None:
            data["key"] = str(self.key)
        if self.salt:
            data["salt"] = self.salt
        return data


@dataclass(frozen=True)
class Arm:
    """One arm of an A/B test: its name (as reports call it) and the reference it serves."""

    name: str
    ref: str


@dataclass(frozen=True)
class ABTest:
    """Arms that split traffic by percent, each request kept on its arm by a hash of its key."""

    arms: tuple[Arm, ...]
    #: percent of traffic per arm, summing to 100
    split: tuple[float, ...]
    key: KeySource
    #: mixed into the key's hash, so a new experiment (a new salt) reshuffles which key gets which
    #: arm; the same salt keeps every key on its arm (empty: the endpoint's name alone)
    salt: str = ""

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"arms": {arm.name: arm.ref for arm in self.arms},
                                "split": [_number(s) for s in self.split], "key": str(self.key)}
        if self.salt:
            data["salt"] = self.salt
        return data


@dataclass(frozen=True)
class EndpointPlan:
    """What one endpoint serves: a primary, and at most one of a canary or an A/B test, plus shadows."""

    endpoint: str
    primary: str
    canary: Canary | None = None
    shadows: tuple[str, ...] = ()
    ab: ABTest | None = None

    def refs(self) -> tuple[str, ...]:
        """Every reference the plan names, each once, primary first: what a server must load."""
        named = [self.primary]
        if self.canary is not None:
            named.append(self.canary.ref)
        if self.ab is not None:
            named.extend(arm.ref for arm in self.ab.arms)
        named.extend(self.shadows)
        return tuple(dict.fromkeys(named))

    def with_canary_weight(self, weight: float) -> EndpointPlan:
        if self.canary is None:
            raise ValueError(f"endpoint {self.endpoint!r} has no canary")
        return replace(self, canary=replace(self.canary, weight=weight))

    def promoted(self) -> EndpointPlan:
        """The plan after its canary passed: the canary is the primary, and no canary is left."""
        if self.canary is None:
            raise ValueError(f"endpoint {self.endpoint!r} has no canary to promote")
        return replace(self, primary=self.canary.ref, canary=None)

    def rolled_back(self) -> EndpointPlan:
        """The plan after its canary failed or was aborted: the primary alone takes the traffic."""
        return replace(self, canary=None)

    def to_dict(self) -> dict[str, Any]:
        """The plan as :func:`parse_plan` reads it (without the endpoint name, which is its key)."""
        data: dict[str, Any] = {"primary": self.primary}
        if self.canary is not None:
            data["canary"] = self.canary.to_dict()
        if self.ab is not None:
            data["ab"] = self.ab.to_dict()
        if self.shadows:
            data["shadows"] = list(self.shadows)
        return data


def parse_duration(value: object) -> float:
    """Seconds from ``30s``, ``5m``, ``1h``, ``250ms`` or a number of seconds; must be positive."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (found := _DURATION.fullmatch(value.strip())):
        seconds = float(found.group(1)) * _UNITS[found.group(2)]
    else:
        raise ValueError(f"must be a duration like 30s, 5m or 1h, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"must be a positive duration, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest of ``Nh``, ``Nm``, ``Ns`` that says ``seconds`` exactly (else ``N.NNs``)."""
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size and float(seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return f"{seconds:g}s"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class _Problems:
    """Collects the problems of one parse, each prefixed by where it is."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.found.append(f"{where}: {problem}" if where else problem)


def _text(data: dict[str, Any], key: str, where: str, problems: _Problems, *,
          required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}.{key}", f"must be a model reference, got {value!r}")
        return None
    return value.strip()


def _unknown(data: dict[str, Any], known: tuple[str, ...], where: str, problems: _Problems) -> None:
    for key in data:
        if key not in known:
            problems.add(where, f"unknown key {key!r} (known: {', '.join(known)})")


def _percents(value: object, where: str, problems: _Problems) -> tuple[float, ...] | None:
    items: list[object]
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        items = [value]
    else:
        problems.add(where, f"must be percents like [1, 5, 25], got {value!r}")
        return None
    numbers: list[float] = []
    for item in items:
        try:
            if isinstance(item, bool):
                raise ValueError
            number = float(item)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.add(where, f"{item!r} is not a number")
            return None
        if not 0.0 <= number <= 100.0:
            problems.add(where, f"{item!r} is not a percent in [0, 100]")
            return None
        numbers.append(number)
    return tuple(numbers)


def _key(value: object, where: str, problems: _Problems) -> KeySource | None:
    if not isinstance(value, str):
        problems.add(where, f"must be header:NAME or field:NAME, got {value!r}")
        return None
    try:
        return KeySource.parse(value)
    except ValueError as exc:
        problems.add(where, str(exc).removeprefix("key "))
        return None


def _salt(value: object, where: str, problems: _Problems) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int) or not 1 <= len(str(value)) <= 128:
        problems.add(where, f"must be a text of 1-128 characters, got {value!r}")
        return ""
    return str(value)


def _gates(value: object, where: str, problems: _Problems) -> Gates:
    if value is None:
        return Gates()
    if not isinstance(value, dict):
        problems.add(where, f"must be a mapping of gates, got {value!r}")
        return Gates()
    try:
        return Gates.from_dict(value)
    except ValueError as exc:
        for line in str(exc).split("; "):
            problems.add(where, line)
        return Gates()


def _canary(value: object, where: str, problems: _Problems) -> Canary | None:
    if isinstance(value, str):
        value = {"ref": value}
    if not isinstance(value, dict):
        problems.add(where, f"must be a reference or a mapping with ref, got {value!r}")
        return None
    before = len(problems.found)
    _unknown(value, ("ref", "steps", "interval", "gates", "weight", "key", "salt"), where, problems)
    ref = _text(value, "ref", where, problems)
    steps = _percents(value.get("steps", list(DEFAULT_STEPS)), f"{where}.steps", problems)
    if steps is not None and (not steps or any(b <= a for a, b in pairwise(steps))
                              or steps[0] <= 0):
        problems.add(f"{where}.steps", f"must rise strictly from above 0 to at most 100, got {list(steps)}")
        steps = None
    if steps is not None and all(step >= 100 for step in steps):
        problems.add(f"{where}.steps", "need a step below 100 (the canary is analysed there)")
    interval = DEFAULT_INTERVAL_S
    try:
        interval = parse_duration(value.get("interval", DEFAULT_INTERVAL_S))
    except ValueError as exc:
        problems.add(f"{where}.interval", str(exc))
    gates = _gates(value.get("gates"), f"{where}.gates", problems)
    weight = None
    if "weight" in value:
        found = _percents(value["weight"], f"{where}.weight", problems)
        if found is not None and len(found) != 1:
            problems.add(f"{where}.weight", f"must be one percent, got {value['weight']!r}")
        weight = found[0] if found else None
    key = _key(value["key"], f"{where}.key", problems) if "key" in value else None
    salt = _salt(value.get("salt"), f"{where}.salt", problems)
    if len(problems.found) > before or ref is None or steps is None:
        return None
    return Canary(ref, steps, interval, gates, steps[0] if weight is None else weight, key, salt)


def _arms(value: object, where: str, problems: _Problems) -> tuple[Arm, ...] | None:
    pairs: list[tuple[object, object]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(e.get("name"), e.get("ref")) if isinstance(e, dict) else (None, e) for e in value]
        pairs = [(name if name is not None else "ab"[i] if i < 2 else f"arm{i}", ref)
                 for i, (name, ref) in enumerate(pairs)]
    else:
        problems.add(where, f"must map arm names to references, got {value!r}")
        return None
    arms = []
    for name, ref in pairs:
        if not isinstance(name, str) or not _ENDPOINT.fullmatch(name):
            problems.add(where, f"arm name {name!r} must be letters, digits, '-', '_' or '.'")
        elif not isinstance(ref, str) or not ref.strip():
            problems.add(f"{where}.{name}", f"must be a model reference, got {ref!r}")
        else:
            arms.append(Arm(name, ref.strip()))
    if len(pairs) < 2:
        problems.add(where, f"an A/B test needs at least two arms, got {len(pairs)}")
        return None
    return tuple(arms) if len(arms) == len(pairs) else None


def _ab(value: object, where: str, problems: _Problems) -> ABTest | None:
    if not isinstance(value, dict):
        problems.add(where, f"must be a mapping with arms, split and key, got {value!r}")
        return None
    _unknown(value, ("arms", "split", "key", "salt"), where, problems)
    arms = _arms(value.get("arms"), f"{where}.arms", problems)
    split = _percents(value.get("split", 50), f"{where}.split", problems)
    key = _key(value.get("key"), f"{where}.key", problems)
    salt = _salt(value.get("salt"), f"{where}.salt", problems)
    if arms is None or split is None:
        return None
    if len(split) == 1 and len(arms) == 2:
        split = (split[0], 100.0 - split[0])
    if len(split) != len(arms) or abs(sum(split) - 100.0) > 1e-9:
        problems.add(f"{where}.split", f"must give each of the {len(arms)} arms a percent, summing to 100, "
                     f"got {list(split)}")
        return None
    return None if key is None else ABTest(arms, split, key, salt)


def _plan(endpoint: object, data: object, problems: _Problems) -> EndpointPlan | None:
    where = f"endpoints.{endpoint}"
    if not isinstance(endpoint, str) or not _ENDPOINT.fullmatch(endpoint):
        problems.add(where, "an endpoint name must be 1-128 letters, digits, '-', '_' or '.'")
        return None
    if isinstance(data, str):
        data = {"primary": data}
    if not isinstance(data, dict):
        problems.add(where, f"must be a reference or a mapping with primary, got {data!r}")
        return None
    before = len(problems.found)
    _unknown(data, ("primary", "canary", "shadows", "ab"), where, problems)
    canary = _canary(data["canary"], f"{where}.canary", problems) if data.get("canary") is not None else None
    ab = _ab(data["ab"], f"{where}.ab", problems) if data.get("ab") is not None else None
    if data.get("canary") is not None and data.get("ab") is not None:
        problems.add(where, "a canary and an A/B test cannot run on one endpoint at once")
    primary = _text(data, "primary", where, problems, required=data.get("ab") is None)
    if primary is None and ab is not None and data.get("primary") is None:
        primary = ab.arms[0].ref  # the first arm is the control, and the fallback
    shadows = data.get("shadows") or []
    if isinstance(shadows, str):
        shadows = [shadows]
    if not isinstance(shadows, list) or not all(isinstance(s, str) and s.strip() for s in shadows):
        problems.add(f"{where}.shadows", f"must be a list of model references, got {shadows!r}")
        shadows = []
    if len(problems.found) > before or primary is None:
        return None
    return EndpointPlan(endpoint, primary, canary, tuple(s.strip() for s in shadows), ab)


def collect_plans(data: object) -> tuple[tuple[EndpointPlan, ...], list[str]]:
    """The plans of an ``endpoints:`` mapping and every problem found, without raising."""
    problems = _Problems()
    if not isinstance(data, dict):
        problems.add("endpoints", f"must map endpoint names to plans, got {data!r}")
        return (), problems.found
    plans = [_plan(name, value, problems) for name, value in data.items()]
    return tuple(plan for plan in plans if plan is not None), problems.found


def parse_plans(data: object) -> tuple[EndpointPlan, ...]:
    """The plans of an ``endpoints:`` mapping (endpoint → plan); ConfigError names every problem."""
    plans, problems = collect_plans(data)
    if problems:
        raise ConfigError("; ".join(problems))
    return plans


def parse_plan(endpoint: str, data: object) -> EndpointPlan:
    """One endpoint's plan, as :meth:`EndpointPlan.to_dict` writes it; ConfigError names every problem."""
    return parse_plans({endpoint: data})[0]
