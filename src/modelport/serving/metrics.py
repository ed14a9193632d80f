"""Prometheus metrics of the server, on a registry of their own, with a fixed and bounded label set.

Labels come only from served models (name, version), the three protocols, status classes and a
classifier's known labels; never from paths or request content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from modelport.serving.batcher import BatchRecord
from modelport.serving.service import ServedModel

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROTOCOLS = ("v2", "v1", "mlflow")
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


class ProcessCollector(Collector):
    """CPU seconds and resident memory of this process, read with psutil at scrape time."""

    def __init__(self) -> None:
        self._process = psutil.Process()

    def collect(self) -> Iterator[Any]:
        times = self._process.cpu_times()
        cpu = CounterMetricFamily("modelport_process_cpu_seconds", "CPU time of this process.")
        cpu.add_metric([], times.user + times.system)
        memory = GaugeMetricFamily("modelport_process_resident_memory_bytes",
                                   "Resident memory of this process.")
        memory.add_metric([], float(self._process.memory_info().rss))
        yield cpu
        yield memory


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class ServingMetrics:
    """Every metric the server exports; one instance per application."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("modelport_requests", "Requests answered.",
                                ["model", "version", "protocol", "status"], registry=r)
        self.latency = Histogram("modelport_request_duration_seconds", "Time to answer a request.",
                                 ["model", "version", "protocol"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("modelport_batch_size", "Rows per model call.",
                                    ["model", "version"], buckets=BATCH_BUCKETS, registry=r)
        self.batch_requests = Histogram("modelport_batch_requests", "Requests coalesced per model call.",
                                        ["model", "version"], buckets=BATCH_BUCKETS, registry=r)
        self.queue_wait = Histogram("modelport_queue_wait_seconds",
                                    "Time a validated request waited for its model call.",
                                    ["model", "version"], buckets=WAIT_BUCKETS, registry=r)
        self.in_flight = Gauge("modelport_in_flight_requests", "Requests being answered now.",
                               registry=r, multiprocess_mode="livesum")
        self.predictions = Counter("modelport_predictions", "Predicted rows by class (classifiers).",
                                   ["model", "version", "label"], registry=r)
        r.register(ProcessCollector())

    def request(self, protocol: str, served: ServedModel | None, status: int, seconds: float) -> None:
        model, version = (served.name, served.version) if served is not None else ("", "")
        self.requests.labels(model, version, protocol, status_class(status)).inc()
        self.latency.labels(model, version, protocol).observe(seconds)

    def batch(self, served: ServedModel, record: BatchRecord) -> None:
        name, version = served.name, served.version
        self.batch_size.labels(name, version).observe(record.rows)
        self.batch_requests.labels(name, version).observe(record.requests)
        wait = self.queue_wait.labels(name, version)
        for seconds in record.waits:
            wait.observe(seconds)
        labels = served.model.labels
        if served.model.task == "classification" and labels:
            known = {str(label) for label in labels}
            found, counts = np.unique(np.asarray(record.prediction.values).astype(str),
                                      return_counts=True)
            for label, count in zip(found.tolist(), counts.tolist(), strict=True):
                self.predictions.labels(name, version, label if label in known else "other").inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
