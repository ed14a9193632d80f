"""CPU and memory of the serving processes over a span, from the samples the prediction log keeps.

Each process (host and pid) sampled its CPU share (of one core, since its previous sample) and its
resident memory; a span's figures are per process the mean and the highest of each, and in total
the cores the processes kept busy on average (the sum of their means) and the memory they held at
most (the sum of their highest, an upper bound of the peak, since the peaks need not coincide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

TIME = "time"


@dataclass(frozen=True)
class ProcessUse:
    """One serving process's CPU (cores) and resident memory (bytes) over a span."""

    host: str
    pid: int
    samples: int
    cpu_mean: float | None
    cpu_max: float | None
    rss_mean: float
    rss_max: int

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "samples": self.samples, "cpu_mean": self.cpu_mean,
                "cpu_max": self.cpu_max, "rss_mean_bytes": self.rss_mean, "rss_max_bytes": self.rss_max}


@dataclass(frozen=True)
class ResourceUse:
    """The serving processes' CPU and memory over a span."""

    processes: tuple[ProcessUse, ...]

    @property
    def cpu_cores(self) -> float | None:
        """Cores kept busy on average, all processes together (None when no process has a CPU share)."""
        means = [p.cpu_mean for p in self.processes if p.cpu_mean is not None]
        return float(sum(means)) if means else None

    @property
    def rss_bytes(self) -> int:
        """Resident memory of all processes at most (the sum of each one's highest sample)."""
        return sum(p.rss_max for p in self.processes)

    def to_dict(self) -> dict[str, Any]:
        return {"processes": len(self.processes), "cpu_cores": self.cpu_cores, "rss_bytes": self.rss_bytes,
                "by_process": [p.to_dict() for p in self.processes]}


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _max(values: np.ndarray) -> float | None:
    return float(values.max()) if values.size else None


def resource_use(samples: pd.DataFrame | None, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None) -> ResourceUse | None:
    """The figures of the samples in ``[start, end)`` (either end open when None); None without samples."""
    if samples is None or not len(samples):
        return None
    keep = np.ones(len(samples), dtype=bool)
    if start is not None:
        keep &= (samples[TIME] >= start).to_numpy()
    if end is not None:
        keep &= (samples[TIME] < end).to_numpy()
    chosen = samples[keep]
    if not len(chosen):
        return None
    processes = []
    for _, group in chosen.groupby(["host", "pid"], sort=True):
        host, pid = group["host"].iloc[0], group["pid"].iloc[0]  # the group's key, typed
        shares = pd.to_numeric(group["cpu_share"], errors="coerce").dropna().to_numpy(dtype=np.float64)
        rss = pd.to_numeric(group["rss_bytes"], errors="coerce").dropna().to_numpy(dtype=np.float64)
        processes.append(ProcessUse(str(host), int(pid), len(group), _mean(shares), _max(shares),
                                    _mean(rss) or 0.0, int(rss.max()) if rss.size else 0))
    return ResourceUse(tuple(processes))
