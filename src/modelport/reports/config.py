"""How a report decides: the calculators' settings, how long a change must hold, operational limits."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from modelport.monitoring.drift import DriftConfig
from modelport.monitoring.importance import ImportanceConfig
from modelport.monitoring.performance import Bound

#: metrics shown but never alerting, by default none: the calibration error is debiased and needs a
#: minimum of rows (see :mod:`modelport.monitoring.performance`), so it may alert like the others
QUIET_METRICS: frozenset[str] = frozenset()
QUIET_BECAUSE: dict[str, str] = {}


@dataclass(frozen=True)
class ReportConfig:
    """How the calculators decide, how long a change must hold to alert, and the operational limits."""

    #: data and prediction drift: tests, thresholds, correction, A/A check
    drift: DriftConfig = field(default_factory=DriftConfig)
    #: fixed alert bounds per performance metric (the only ones when the reference has no labels)
    bounds: Mapping[str, Bound] = field(default_factory=dict)
    #: how much worse than the labelled reference a metric may get before it alerts (beyond ``sigmas``)
    tolerances: Mapping[str, float] = field(default_factory=dict)
    sigmas: float = 3.0
    #: the positive class of a binary classifier (default: the second label)
    positive: Hashable | None = None
    importance: ImportanceConfig = field(default_factory=ImportanceConfig)
    #: labelled rows the range needs before importance shift is computed
    importance_min_rows: int = 100
    #: windows in a row a change must hold to alert (the whole range drifting alerts as well)
    persistence: int = 2
    #: rows a window needs before drift and performance are computed on it
    min_rows: int = 1
    quiet_metrics: frozenset[str] = QUIET_METRICS
    #: alert when a version answers more than this share of requests with a 5xx status
    max_server_error_rate: float | None = 0.01
    #: alert when a version's p99 latency exceeds this many milliseconds
    max_latency_p99_ms: float | None = None
