"""What one version did in one window: requests, failures, p99 latency, predictions and outcomes.

:class:`WindowStats` is all the canary gates read, so they are tested without a server;
:func:`window_statistics` computes it per version (or per role) from rows of the prediction log as
``read_predictions`` or ``joined`` returns them (``version``, ``model``, ``role``, ``status``,
``latency_ms``, ``prediction``, and ``outcome`` when feedback was joined). A row is one prediction;
a request of n rows counts n times, as the log stores it. A failure is a 5xx status (the model or
the server failed); a 4xx is the caller's bad input, counted in ``requests`` and not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["OUTCOME", "WindowStats", "version_label", "window_statistics"]

#: the joined feedback column whose values a business metric reads
OUTCOME = "outcome"
#: the roles that answered callers (shadows did not)
SERVED_ROLES = ("primary", "canary", "arm")


@dataclass(frozen=True)
class WindowStats:
    """One version's traffic in one window."""

    requests: int
    errors: int = 0
    #: 99th percentile of latency over every request, failed ones included; None without requests
    p99_ms: float | None = None
    #: the predicted values of successful requests (labels or numbers)
    predictions: tuple[Any, ...] = ()
    #: business metric name → the outcome values fed back for this window's predictions
    metrics: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    #: every request's latency in ms, ascending (the p99 gate's confidence bounds); empty: unknown
    latencies: tuple[float, ...] = ()

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": self.errors, "error_rate": self.error_rate,
                "p99_ms": self.p99_ms, "predictions": len(self.predictions),
                "metrics": {name: len(values) for name, values in self.metrics.items()}}


def version_label(model: str, version: str) -> str:
    """How a served version is named in the statistics: ``model:version``."""
    return f"{model}:{version}"


def _outcomes(values: pd.Series) -> tuple[float, ...]:
    present = values[values.notna()]
    if present.empty:
        return ()
    try:
        numbers = pd.to_numeric(present.map(lambda v: float(v) if isinstance(v, bool) else v),
                                errors="raise")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"business metric outcomes must be numbers or booleans: {exc}") from exc
    return tuple(float(v) for v in numbers)


def _stats(rows: pd.DataFrame, metric: str | None) -> WindowStats:
    status = rows["status"].to_numpy(dtype=np.int64)
    latency = rows["latency_ms"].to_numpy(dtype=np.float64)
    ok = status < 400
    predictions: tuple[Any, ...] = ()
    if "prediction" in rows:
        served = rows["prediction"][ok]
        predictions = tuple(v.item() if hasattr(v, "item") else v for v in served[served.notna()])
    metrics: dict[str, tuple[float, ...]] = {}
    if metric is not None:
        metrics[metric] = _outcomes(rows[OUTCOME]) if OUTCOME in rows else ()
    return WindowStats(requests=len(rows), errors=int((status >= 500).sum()),
                       p99_ms=float(np.percentile(latency, 99)) if len(latency) else None,
                       predictions=predictions, metrics=metrics, latencies=tuple(np.sort(latency).tolist()))


def window_statistics(frame: pd.DataFrame, *, by: str = "version", metric: str | None = None,
                      roles: Sequence[str] = SERVED_ROLES, endpoint: str | None = None
                      ) -> dict[str, WindowStats]:
    """Statistics of every version (``by="version"``: keyed ``model:version``) or role (``by="role"``)
    in ``frame``, rows of the log already cut to one window.

    Only rows whose role is in ``roles`` count (by default those that answered callers, not shadows),
    and of ``endpoint`` when given. With ``metric``, the ``outcome`` column of joined feedback feeds
    ``metrics[metric]`` (booleans as 0/1; rows without feedback are left out).
    """
    if by not in ("version", "role"):
        raise ValueError(f"by must be 'version' or 'role', got {by!r}")
    rows = frame[frame["role"].isin(list(roles))]
    if endpoint is not None:
        rows = rows[rows["endpoint"] == endpoint]
    if by == "role":
        keys = rows["role"].astype(str)
    else:
        keys = rows["model"].astype(str) + ":" + rows["version"].astype(str)
    return {str(key): _stats(group, metric) for key, group in rows.groupby(keys, sort=True)}
