"""The rollout section of a report: each shadow against the primary it copied, and each served version.

The numbers come from the promotion package, which reports may not import (they are siblings):
the composition root (:mod:`modelport.app.rollout_figures`) computes them and hands them over. A shadow's
comparison is taken as it is, through the :class:`ShadowView` protocol that
``promotion.ShadowComparison`` satisfies, so the report shows the promotion package's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["LatencyView", "RolloutSection", "SegmentView", "ShadowSection", "ShadowView", "VersionRow"]


class LatencyView(Protocol):
    @property
    def n(self) -> int: ...
    @property
    def mean_ms(self) -> float | None: ...
    @property
    def p50_ms(self) -> float | None: ...
    @property
    def p95_ms(self) -> float | None: ...
    @property
    def p99_ms(self) -> float | None: ...


class SegmentView(Protocol):
    @property
    def feature(self) -> str: ...
    @property
    def segment(self) -> str: ...
    @property
    def rows(self) -> int: ...
    @property
    def disagreement(self) -> float: ...
    @property
    def mean_difference(self) -> float | None: ...


class ShadowView(Protocol):
    """What a shadow comparison holds (``promotion.ShadowComparison``)."""

    @property
    def pairs(self) -> int: ...
    @property
    def missing_shadow(self) -> int: ...
    @property
    def shadow_failures(self) -> int: ...
    @property
    def agreement(self) -> float | None: ...
    @property
    def mean_difference(self) -> float | None: ...
    @property
    def max_difference(self) -> float | None: ...
    @property
    def primary_latency(self) -> LatencyView: ...
    @property
    def shadow_latency(self) -> LatencyView: ...
    @property
    def segments(self) -> Sequence[SegmentView]: ...
    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ShadowSection:
    """One shadow version of one endpoint, compared with the versions that answered its callers."""

    endpoint: str
    shadow: str
    #: the ``model:version`` of the rows it was compared with
    primaries: tuple[str, ...]
    comparison: ShadowView

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "shadow": self.shadow, "primaries": list(self.primaries),
                **self.comparison.to_dict()}


@dataclass(frozen=True)
class VersionRow:
    """One version that answered callers: its traffic and what it predicted, over shared bins."""

    endpoint: str
    version: str
    roles: tuple[str, ...]
    requests: int
    errors: int
    error_rate: float | None
    p50_ms: float | None
    p99_ms: float | None
    #: the prediction bins (labels, or numeric ranges shared by every version of the endpoint)
    bins: tuple[str, ...]
    #: the share of this version's predictions in each bin
    shares: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "version": self.version, "roles": list(self.roles),
                "requests": self.requests, "errors": self.errors, "error_rate": self.error_rate,
                "p50_ms": self.p50_ms, "p99_ms": self.p99_ms,
                "predictions": dict(zip(self.bins, self.shares, strict=True))}


@dataclass(frozen=True)
class RolloutSection:
    """Shadows (when the window logged some) and served versions (when canaries or arms ran)."""

    shadows: tuple[ShadowSection, ...] = ()
    versions: tuple[VersionRow, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"shadows": [s.to_dict() for s in self.shadows],
                "versions": [v.to_dict() for v in self.versions]}
