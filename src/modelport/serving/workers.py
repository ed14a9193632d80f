"""Several worker processes on one port, watched by a supervisor that replaces the dead and the hung.

The supervisor binds the port once and hands the listening socket to N worker processes (spawned,
so no thread or CUDA state is forked); the kernel spreads connections over the workers that accept.
Each worker also listens on a private Unix socket that only the supervisor probes with
``GET /healthz``, so a probe always reaches the worker it is meant for; the answer comes from that
worker's event loop and is 503 when one of its model calls has stalled. A worker that exits is
replaced; one that fails ``probe_failures`` probes in a row (or never answers within
``startup_timeout_s``) is killed and replaced. A worker that dies before ever answering stops the
server: it would fail the same way again. SIGTERM or SIGINT: the supervisor stops replacing
workers and forwards SIGTERM, each worker stops accepting, finishes the requests it holds (up to
``drain_timeout_s``) and exits; stragglers are killed after that.

Metrics: the supervisor points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the first
worker starts, so each worker's /metrics aggregates every worker's values.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import uvicorn
from prometheus_client import CollectorRegistry, Counter, values
from starlette.types import ASGIApp

from modelport.errors import ServingError
from modelport.serving.config import ServerConfig
from modelport.serving.extensions import ExtensionSpec, build_extensions
from modelport.serving.service import Service

log = logging.getLogger("modelport.serving")

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class ModelSource:
    """A model a worker loads: the resolved artifact path and the name and version it is served as."""

    path: str
    name: str
    version: str


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs to build its server; picklable."""

    models: tuple[ModelSource, ...]
    config: ServerConfig
    allow_env_mismatch: bool = False
    device: str = "cpu"
    log_level: str = "warning"
    #: routes and background tasks each worker adds (named factories: a closure would not pickle)
    extensions: tuple[ExtensionSpec, ...] = ()


@dataclass(frozen=True)
class SupervisorConfig:
    """How many workers, and how they are watched."""

    workers: int = 2
    #: seconds between health probes of each worker.
    probe_interval_s: float = 1.0
    #: a probe not answered in this many seconds fails.
    probe_timeout_s: float = 5.0
    #: consecutive failed probes after which a worker is killed and replaced.
    probe_failures: int = 3
    #: a new worker must answer its first probe within this many seconds (models load meanwhile).
    startup_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.probe_interval_s <= 0 or self.probe_timeout_s <= 0:
            raise ValueError("probe interval and timeout must be positive")
        if self.probe_failures < 1:
            raise ValueError("probe_failures must be at least 1")


def run_worker(spec: WorkerSpec, listener: socket.socket, health_path: str, reason: str) -> None:
    """Entry point of a worker process: load the models, then serve the shared and the probe socket."""
    from modelport.inference.load import load
    from modelport.serving.http.app import build_service, create_app
    from modelport.serving.metrics import ServingMetrics

    logging.basicConfig(level=spec.log_level.upper(), format="%(levelname)s [%(process)d] %(message)s")
    models = [(source.name, source.version,
               load(source.path, allow_env_mismatch=spec.allow_env_mismatch, golden_check=False,
                    device=spec.device)) for source in spec.models]
    metrics = ServingMetrics(multiprocess=MULTIPROC_VARIABLE in os.environ)
    service, metrics = build_service(models, spec.config, metrics)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.bind(health_path)
    probe.listen(16)
    shared = os.environ.get(MULTIPROC_VARIABLE)
    extensions = build_extensions(spec.extensions, service, metrics, Path(shared) if shared else None)
    app = create_app(service, metrics, on_started=metrics.worker_starts.labels(reason).inc,
                     extensions=extensions)
    server = serve_service(service, app, spec.config, spec.log_level)
    _exit_with_parent(server)
    server.run(sockets=[listener, probe])


def _exit_with_parent(server: uvicorn.Server) -> None:
    """Drain and exit when the supervisor is gone (killed), so no worker is left behind serving."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.error("the supervisor %d is gone; draining and exiting", parent)
        server.should_exit = True

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve_service(service: Service, app: ASGIApp, config: ServerConfig, log_level: str) -> uvicorn.Server:
    """The uvicorn server for ``app``; ``service`` learns from it when no other request waits."""
    server = uvicorn.Server(uvicorn_config(app, config, log_level))
    tasks = server.server_state.tasks  # one task per request being answered or about to be
    service.set_quiet(lambda: len(tasks) <= 1)
    return server


def uvicorn_config(app: ASGIApp, config: ServerConfig, log_level: str) -> uvicorn.Config:
    """The uvicorn settings every server process uses (one place, for the single-process mode too).

    No ``Server: uvicorn`` header: it tells a caller nothing it needs, and uvicorn checks every
    response header in Python, about a microsecond each under load (a point of a 100-tree forest's
    throughput at 64 connections). Client addresses are never used, so no proxy headers either.
    """
    return uvicorn.Config(app, host=config.host, port=config.port, loop="uvloop", http="httptools",
                          lifespan="on", access_log=False, log_level=log_level,
                          timeout_graceful_shutdown=int(config.drain_timeout_s) or None,
                          backlog=2048, proxy_headers=False, server_header=False)


def probe(path: str, timeout: float) -> bool:
    """True when the worker behind the Unix socket ``path`` answers ``GET /healthz`` with 200 in time."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: supervisor\r\nconnection: close\r\n\r\n")
            head = sock.recv(64)
    except OSError:
        return False
    return head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))


def _probe_counter(workers: int) -> Counter:
    """The supervisor's probe counts, written to the multiprocess folder like the workers' metrics
    so every worker's /metrics shows them. prometheus_client chose this process's value class when
    it was imported, before the folder existed; the counter's series are made with the file-backed
    class (all of them now: they are bounded, and show as zeros until a probe counts)."""
    previous = values.ValueClass
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    try:
        counter = Counter("modelport_worker_probes", "Health probes of worker slots by the supervisor.",
                          ["worker", "outcome"], registry=CollectorRegistry())
        for index in range(workers):
            for outcome in ("ok", "failed"):
                counter.labels(str(index), outcome)
    finally:
        values.ValueClass = previous
    return counter


@dataclass
class _Slot:
    """One worker position: the process now filling it and how its probes went."""

    index: int
    process: BaseProcess | None = None
    health_path: str = ""
    started_at: float = 0.0
    answered: bool = False
    failures: int = 0
    generation: int = 0


class Supervisor:
    """Runs ``spec`` in ``config.workers`` processes on one port until SIGTERM or SIGINT."""

    def __init__(self, spec: WorkerSpec, config: SupervisorConfig) -> None:
        self.spec = spec
        self.config = config
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self._slots = [_Slot(i) for i in range(config.workers)]
        self._rundir = Path(tempfile.mkdtemp(prefix="modelport-serve-"))
        self._listener: socket.socket | None = None
        self.failure: str | None = None

    @property
    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots if slot.process is not None and slot.process.pid]

    def run(self) -> None:
        """Serve until asked to stop; raises ServingError when workers cannot start at all."""
        metrics_dir = self._rundir / "metrics"
        metrics_dir.mkdir()
        os.environ[MULTIPROC_VARIABLE] = str(metrics_dir)
        self._probes = _probe_counter(len(self._slots))
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._listener = self._bind()
            for slot in self._slots:
                self._start(slot, "initial")
            log.warning("supervisor %d serving on %s:%d with %d workers", os.getpid(), self.spec.config.host,
                        self.spec.config.port, self.config.workers)
            with ThreadPoolExecutor(len(self._slots), thread_name_prefix="probe") as probes:
                while not self._stop.wait(self.config.probe_interval_s):
                    healthy = list(probes.map(self._probe, self._slots))
                    for slot, ok in zip(self._slots, healthy, strict=True):
                        if not self._stop.is_set():
                            self._watch(slot, ok)
        finally:
            self._drain()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.environ.pop(MULTIPROC_VARIABLE, None)
            if self._listener is not None:
                self._listener.close()
            shutil.rmtree(self._rundir, ignore_errors=True)
        if self.failure is not None:
            raise ServingError(self.failure)

    def stop(self) -> None:
        self._stop.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.warning("supervisor got %s: draining workers", signal.Signals(signum).name)
        self._stop.set()

    def _bind(self) -> socket.socket:
        config = self.spec.config
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((config.host, config.port))
        except OSError as exc:
            sock.close()
            raise ServingError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from exc
        sock.listen(2048)
        sock.set_inheritable(True)
        return sock

    def _start(self, slot: _Slot, reason: str) -> None:
        slot.generation += 1
        slot.health_path = str(self._rundir / f"worker-{slot.index}-{slot.generation}.sock")
        process = self._context.Process(target=run_worker, name=f"modelport-worker-{slot.index}",
                                        args=(self.spec, self._listener, slot.health_path, reason))
        process.start()
        slot.process, slot.started_at, slot.answered, slot.failures = process, time.monotonic(), False, 0

    def _probe(self, slot: _Slot) -> bool:
        if slot.process is None or not slot.process.is_alive():
            return False
        return probe(slot.health_path, self.config.probe_timeout_s)

    def _watch(self, slot: _Slot, healthy: bool) -> None:
        process = slot.process
        assert process is not None
        self._probes.labels(str(slot.index), "ok" if healthy else "failed").inc()
        if healthy:
            slot.answered, slot.failures = True, 0
            return
        if not process.is_alive():
            process.join()
            self._forget(process)
            if not slot.answered:
                self._give_up(f"worker {process.pid} exited with code {process.exitcode} before it "
                              "started serving (see its log above); it would fail the same way again")
                return
            log.error("worker %d exited with code %s; starting a replacement", process.pid, process.exitcode)
            self._start(slot, "crashed")
            return
        if not slot.answered:
            if time.monotonic() - slot.started_at > self.config.startup_timeout_s:
                self._kill(process)
                self._give_up(f"worker {process.pid} did not answer its health probe within "
                              f"{self.config.startup_timeout_s:g} s of starting")
            return
        slot.failures += 1
        if slot.failures >= self.config.probe_failures:
            log.error("worker %d failed %d health probes in a row; killing and replacing it",
                      process.pid, slot.failures)
            self._kill(process)
            self._start(slot, "unresponsive")

    def _give_up(self, reason: str) -> None:
        log.error("%s; stopping", reason)
        self.failure = reason
        self._stop.set()

    def _kill(self, process: BaseProcess) -> None:
        process.kill()
        process.join()
        self._forget(process)

    def _forget(self, process: BaseProcess) -> None:
        """Drop a dead worker's live gauges (its counters and histograms stay in the totals)."""
        from prometheus_client import multiprocess

        if process.pid is not None:
            multiprocess.mark_process_dead(process.pid, str(self._rundir / "metrics"))  # type: ignore[no-untyped-call]

    def _drain(self) -> None:
        """SIGTERM every worker, wait for them to finish their requests, kill what is left."""
        running = [slot.process for slot in self._slots
                   if slot.process is not None and slot.process.is_alive()]
        for process in running:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.spec.config.drain_timeout_s + 10
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker %d did not finish draining in time; killing it", process.pid)
                process.kill()
                process.join()
