"""A canary's gates as data: the thresholds each analysis step must meet, and the business-metric rule.

A metric rule reads ``NAME OP BOUND`` where OP is ``>=`` or ``<=`` and BOUND is ``baseline`` (the
primary's mean on the same window), ``baseline*0.95``, ``baseline-0.01``, ``baseline+0.01``, or a
plain number: ``conversion>=baseline``, ``revenue>=baseline*0.98``, ``refund_rate<=0.02``.
How the gates are judged lives in :mod:`modelport.promotion.gates`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

BASELINE = "baseline"
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_RULE = re.compile(rf"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=)\s*(?:(baseline)\s*(?:([*+-])\s*({_NUMBER}))?"
                   rf"|({_NUMBER}))\s*")


@dataclass(frozen=True)
class MetricGate:
    """``name op bound``, the bound being ``scale * baseline + offset`` or, without a baseline, ``offset``."""

    name: str
    op: str
    relative: bool
    scale: float = 1.0
    offset: float = 0.0

    def bound(self, baseline: float | None) -> float:
        """The value the canary's mean must reach (``>=``) or stay under (``<=``)."""
        if not self.relative:
            return self.offset
        if baseline is None:
            raise ValueError(f"{self} needs the primary's {self.name} as its baseline")
        return self.scale * baseline + self.offset

    def __str__(self) -> str:
        if not self.relative:
            bound = f"{self.offset:g}"
        elif self.scale != 1.0:
            bound = f"{BASELINE}*{self.scale:g}"
        elif self.offset:
            bound = f"{BASELINE}{'+' if self.offset > 0 else '-'}{abs(self.offset):g}"
        else:
            bound = BASELINE
        return f"{self.name}{self.op}{bound}"


def parse_metric_gate(text: str) -> MetricGate:
    """Parse ``conversion>=baseline`` and its kin; ValueError says what is wrong."""
    found = _RULE.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise ValueError(f"metric must read NAME>=baseline, NAME>=baseline*0.95, NAME<=0.02 and the like, "
                         f"got {text!r}")
    name, op, baseline, sign, amount, absolute = found.groups()
    if baseline is None:
        return MetricGate(name, op, relative=False, offset=float(absolute))
    if sign == "*":
        if float(amount) <= 0:
            raise ValueError(f"metric {text!r}: the baseline's scale must be positive")
        return MetricGate(name, op, relative=True, scale=float(amount))
    offset = 0.0 if sign is None else float(amount) * (-1.0 if sign == "-" else 1.0)
    return MetricGate(name, op, relative=True, offset=offset)


@dataclass(frozen=True)
class Gates:
    """What each analysed step of a canary must show, canary against primary on the same window.

    ``min_requests``: below this many requests on either side (or feedback values, for the metric)
    the step is inconclusive and waits. ``max_error_rate``: the canary's share of failed (5xx)
    requests. ``max_p99_ratio``: the canary's p99 latency over the primary's. ``max_disagreement``:
    how far the canary's prediction distribution may lie from the primary's (0-1; None: not checked).
    ``metric``: a business-metric rule on feedback outcomes (None: not checked). ``confidence``: of
    the statistical gates (disagreement, metric), which fail only on evidence, never on noise.
    """

    min_requests: int = 100
    max_error_rate: float = 0.01
    max_p99_ratio: float = 1.5
    max_disagreement: float | None = None
    metric: MetricGate | None = None
    confidence: float = 0.95

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.min_requests, bool) or not isinstance(self.min_requests, int) \
                or self.min_requests < 1:
            problems.append(f"min_requests must be a whole number of at least 1, got {self.min_requests!r}")
        if not 0.0 <= self.max_error_rate <= 1.0:
            problems.append(f"max_error_rate must lie in [0, 1], got {self.max_error_rate!r}")
        if not self.max_p99_ratio > 0:
            problems.append(f"max_p99_ratio must be positive, got {self.max_p99_ratio!r}")
        if self.max_disagreement is not None and not 0.0 <= self.max_disagreement < 1.0:
            problems.append(f"max_disagreement must lie in [0, 1), got {self.max_disagreement!r}")
        if not 0.5 <= self.confidence < 1.0:
            problems.append(f"confidence must lie in [0.5, 1), got {self.confidence!r}")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gates:
        """Gates from a mapping of their names; ValueError names every bad or unknown key at once."""
        known = {f.name for f in fields(cls)}
        problems = [f"unknown gate {key!r} (known: {', '.join(sorted(known))})" for key in data
                    if key not in known]
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known or value is None:
                continue
            if key == "metric":
                try:
                    values[key] = parse_metric_gate(value)
                except ValueError as exc:
                    problems.append(str(exc))
            elif isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{key} must be a number, got {value!r}")
            else:
                values[key] = value
        if problems:
            raise ValueError("; ".join(problems))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"min_requests": self.min_requests, "max_error_rate": self.max_error_rate,
                                "max_p99_ratio": self.max_p99_ratio}
        if self.max_disagreement is not None:
            data["max_disagreement"] = self.max_disagreement
        if self.metric is not None:
            data["metric"] = str(self.metric)
        if self.confidence != 0.95:
            data["confidence"] = self.confidence
        return data
