"""Prometheus metrics of the server, on a registry of their own, with a fixed and bounded label set.

Labels come only from served models (name, version), the three protocols, status classes, a
classifier's known labels and accelerator names; never from paths or request content.

With several worker processes (``multiprocess=True``, ``PROMETHEUS_MULTIPROC_DIR`` set by the
supervisor before the workers start) every worker writes its values to files in that folder and a
scrape answered by any worker aggregates all of them; resource gauges are summed over live workers.
"""

from __future__ import annotations

import collections
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from modelport.predictions import LogStats
from modelport.serving.batcher import BatchRecord
from modelport.serving.service import ServedModel

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROTOCOLS = ("v2", "v1", "mlflow")
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


class ResourceGauges:
    """CPU, memory and accelerator use of this process, sampled with psutil (and torch for CUDA)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._process = psutil.Process()
        self.cpu = Gauge("modelport_process_cpu_seconds", "CPU time of the serving processes.",
                         registry=registry, multiprocess_mode="livesum")
        self.memory = Gauge("modelport_process_resident_memory_bytes",
                            "Resident memory of the serving processes.",
                            registry=registry, multiprocess_mode="livesum")
        self.gpu_memory = Gauge("modelport_gpu_memory_allocated_bytes",
                                "Accelerator memory held by the serving processes' tensors.", ["device"],
                                registry=registry, multiprocess_mode="livesum")
        self.gpu_utilization = Gauge("modelport_gpu_utilization_ratio",
                                     "Share of time the accelerator was busy (from NVML).", ["device"],
                                     registry=registry, multiprocess_mode="livemax")

    def sample(self, devices: Iterable[str] = ()) -> None:
        times = self._process.cpu_times()
        self.cpu.set(times.user + times.system)
        self.memory.set(float(self._process.memory_info().rss))
        for device in devices:
            allocated, utilization = _cuda_use(device)
            self.gpu_memory.labels(device).set(allocated)
            if utilization is not None:
                self.gpu_utilization.labels(device).set(utilization)


def _cuda_use(device: str) -> tuple[float, float | None]:
    """Bytes allocated by this process on ``device`` and the device's utilisation, when NVML answers."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return 0.0, None
    allocated = float(torch.cuda.memory_allocated(device))
    try:
        utilization: float | None = torch.cuda.utilization(device) / 100
    except Exception:  # NVML (pynvml) missing or refusing: memory is still reported
        utilization = None
    return allocated, utilization


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class ServingMetrics:
    """Every metric the server exports; one instance per application."""

    def __init__(self, registry: CollectorRegistry | None = None, *, multiprocess: bool = False) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess
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
        self.worker_starts = Counter("modelport_worker_starts",
                                     "Worker processes that started serving, by why they were started.",
                                     ["reason"], registry=r)
        self.resources = ResourceGauges(r)
        #: the request counter's and latency histogram's children by (model, version, protocol,
        #: status): as bounded as the label set itself
        self._request_children: dict[tuple[str, str, str, int], tuple[Counter, Histogram]] = {}
        #: a classifier's labels as text, by the identity of its (stable) label list
        self._known_labels: dict[int, tuple[Sequence[Any], set[str]]] = {}
        self.shadow_copies = Counter("modelport_shadow_copies",
                                     "Copies of endpoint requests for shadow versions, by outcome (answered, "
                                     "failed, or dropped while the shadow queue was full).",
                                     ["endpoint", "version", "outcome"], registry=r)
        self.key_missing = Counter("modelport_routing_key_missing",
                                   "Requests to an endpoint with a sticky key that carried none "
                                   "(assigned at random).", ["endpoint"], registry=r)
        self.log_rows = Gauge("modelport_prediction_log_rows",
                              "Rows the prediction log has handled, by outcome (written, dropped when its "
                              "queue was full, sampled_out, failed) and rows queued now.", ["outcome"],
                              registry=r, multiprocess_mode="livesum")

    def request(self, protocol: str, served: ServedModel | None, status: int, seconds: float) -> None:
        model, version = (served.name, served.version) if served is not None else ("", "")
        key = (model, version, protocol, status)
        children = self._request_children.get(key)
        if children is None:  # ``labels`` costs more than the update itself: look each child up once
            children = (self.requests.labels(model, version, protocol, status_class(status)),
                        self.latency.labels(model, version, protocol))
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def batch(self, served: ServedModel, record: BatchRecord) -> None:
        name, version = served.name, served.version
        self.batch_size.labels(name, version).observe(record.rows)
        self.batch_requests.labels(name, version).observe(record.requests)
        wait = self.queue_wait.labels(name, version)
        for seconds in record.waits:
            wait.observe(seconds)
        labels = served.model.labels
        if served.model.task == "classification" and labels:
            known = self._known_labels.get(id(labels))
            if known is None or known[0] is not labels:
                known = (labels, {str(label) for label in labels})
                self._known_labels[id(labels)] = known
            values = record.prediction.values
            found = collections.Counter(values.tolist() if isinstance(values, np.ndarray) else values)
            for value, count in found.items():
                label = str(value)
                self.predictions.labels(name, version, label if label in known[1] else "other").inc(count)

    def shadow(self, endpoint: str, version: str, outcome: str) -> None:
        self.shadow_copies.labels(endpoint, version, outcome).inc()

    def log_stats(self, stats: LogStats) -> None:
        """Export the prediction log's counts; drops mean the writer cannot keep up."""
        for outcome in ("written", "dropped", "sampled_out", "failed", "queued"):
            self.log_rows.labels(outcome).set(getattr(stats, outcome))

    def render(self, devices: Iterable[str] = ()) -> bytes:
        """The text exposition: this process's registry, or every worker's files when multiprocess."""
        self.resources.sample(devices)
        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
