"""How a report decides: the calculators' settings, how long a change must hold, operational limits."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from modelport.monitoring.drift import DriftConfig
from modelport.monitoring.importance import ImportanceConfig
from modelport.monitoring.performance import Bound


@dataclass(frozen=True)
class ReportConfig:
    """How the calculators decide, how long a change must hold to alert, and the operational limits."""

    drift: DriftConfig = field(default_factory=DriftConfig)
    bounds: Mapping[str, Bound] = field(default_factory=dict)
    sigmas: float = 3.0
    positive: Hashable | None = None
    importance: ImportanceConfig = field(default_factory=ImportanceConfig)
    importance_min_rows: int = 100
    persistence: int = 2
    min_rows: int = 1
    max_server_error_rate: float | None = 0.01
    max_latency_p99_ms: float | None = None
