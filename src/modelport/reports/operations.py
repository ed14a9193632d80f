"""Operational figures of a span of the prediction log: latency percentiles, throughput, errors by status.

Latency percentiles are ``numpy.percentile`` (linear interpolation) over every request of the span,
failed ones included, because a caller waits for those too. Throughput is requests per second of
the span's length (a time window's nominal length; for count windows, first to last record). A log
that samples keeps each request with probability ``sample_rate``, so each logged row stands for
``1 / sample_rate`` requests served: that is what throughput counts (shares and percentiles need no
correction, because sampling goes by a hash of the id, independent of status and latency). The
error rate is the share of requests without a 2xx status; the server error rate the share of 5xx,
which is what alerts: 4xx answers are the caller's fault and stay visible in the status classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelport.reports import inputs as log


@dataclass(frozen=True)
class Operations:
    """Requests, latency, throughput and status classes of one span (one version or all)."""

    requests: int
    seconds: float | None
    latency_p50: float | None
    latency_p95: float | None
    latency_p99: float | None
    status_classes: dict[str, int] = field(default_factory=dict)
    #: requests served, estimated from the sample rates when the log sampled (None: all were logged)
    sampled_served: float | None = None

    @property
    def served(self) -> float:
        """Requests served: the logged ones, scaled up where the log sampled."""
        return float(self.requests) if self.sampled_served is None else self.sampled_served

    @property
    def throughput(self) -> float | None:
        """Requests served per second, None when the span has no length."""
        return self.served / self.seconds if self.seconds else None

    def share(self, *classes: str) -> float | None:
        if not self.requests:
            return None
        return sum(self.status_classes.get(c, 0) for c in classes) / self.requests

    @property
    def error_rate(self) -> float | None:
        """The share of requests without a 2xx status."""
        failed = [name for name in self.status_classes if name != "2xx"]
        return self.share(*failed)

    @property
    def server_error_rate(self) -> float | None:
        return self.share("5xx")

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "served": self.served, "seconds": self.seconds,
                "throughput": self.throughput,
                "latency_ms": {"p50": self.latency_p50, "p95": self.latency_p95, "p99": self.latency_p99},
                "status_classes": dict(self.status_classes), "error_rate": self.error_rate,
                "server_error_rate": self.server_error_rate}


def status_classes(statuses: pd.Series) -> dict[str, int]:
    """How many statuses fall in each class (``2xx``, ``4xx``, ...; ``unknown`` for a missing one)."""
    hundreds = pd.to_numeric(statuses, errors="coerce") // 100
    counts = hundreds.value_counts(dropna=False)
    out = {("unknown" if k != k else f"{int(k)}xx"): int(v)  # k != k: NaN, a missing status
           for k, v in zip(counts.index.tolist(), counts.tolist(), strict=True)}
    return dict(sorted(out.items()))


def operations(frame: pd.DataFrame, seconds: float | None) -> Operations:
    """The figures of the rows of one span that lasted ``seconds``."""
    latency = pd.to_numeric(frame[log.LATENCY], errors="coerce").to_numpy(dtype=np.float64)
    latency = latency[np.isfinite(latency)]
    p50 = p95 = p99 = None
    if latency.size:
        p50, p95, p99 = (float(v) for v in np.percentile(latency, [50, 95, 99]))
    served = None
    if log.SAMPLE_RATE in frame:
        rates = pd.to_numeric(frame[log.SAMPLE_RATE], errors="coerce").to_numpy(dtype=np.float64)
        rates = np.where(np.isfinite(rates) & (rates > 0), rates, 1.0)
        if (rates < 1.0).any():
            served = float(np.sum(1.0 / rates))
    return Operations(len(frame), seconds, p50, p95, p99, status_classes(frame[log.STATUS]), served)


def by_version(frame: pd.DataFrame, seconds: float | None) -> dict[str, Operations]:
    """The figures of each model version in the rows, by version."""
    names = log.versions(frame)
    return {name: operations(frame[names == name], seconds) for name in sorted(set(names.tolist()))}
