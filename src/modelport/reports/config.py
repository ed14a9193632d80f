"""How a report decides: the calculators' settings, how long a change must hold, operational limits."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from modelport.monitoring.drift import DriftConfig
from modelport.monitoring.importance import ImportanceConfig
from modelport.monitoring.performance import Bound

#: shown, never alerting: the expected calibration error of a window is biased upward by binning
#: few rows (about 0.07 for a perfectly calibrated model on 170 rows in 10 bins, against 0.02 on
#: 2,000), and its bound allows for the spread of the difference, not for that bias
QUIET_METRICS = frozenset({"calibration_error"})
QUIET_BECAUSE = {"calibration_error": "it is biased upward in small windows"}


@dataclass(frozen=True)
class ReportConfig:
    """How the calculators decide, how long a change must hold to alert, and the operational limits."""

    #: data and prediction drift: tests, thresholds, correction, A/A check
    drift: DriftConfig = field(default_factory=DriftConfig)
    #: fixed alert bounds per performance metric (otherwise ``sigmas`` around the reference)
    bounds: Mapping[str, Bound] = field(default_factory=dict)
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
