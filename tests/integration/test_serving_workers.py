"""Several workers on one port: shared traffic, replacement of crashed and hung workers, metrics
summed over workers, draining on SIGTERM, and a server that stops when workers cannot start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest

from tests.serving_apps import open_model
from tests.serving_processes import serve, wait_until

ROW = {"x1": 0.1, "x2": -0.2, "x3": 0.3, "x4": 1.0}
SLOW = {"x1": 0.1, "x2": 60.0, "x3": 0.3, "x4": 1.0}  # the fragile model sleeps a second on x2 > 50

#: a supervisor over the artifact in argv[1] with fast probes, so a hung worker is noticed in ~1 s.
FAST_PROBES = """
import sys
from modelport.serving.config import ServerConfig
from modelport.serving.workers import ModelSource, Supervisor, SupervisorConfig, WorkerSpec
path, port = sys.argv[1], int(sys.argv[3])
spec = WorkerSpec((ModelSource(path, "numbers", "1"),), ServerConfig(port=port))
Supervisor(spec, SupervisorConfig(workers=2, probe_interval_s=0.2, probe_timeout_s=0.5,
                                  probe_failures=2)).run()
"""


def _predict(url: str, row: dict[str, float] = ROW, name: str = "numbers") -> httpx.Response:
    # a new connection per request, so the kernel may hand each one to any worker
    return httpx.post(f"{url}/v1/models/{name}:predict", json={"instances": [row]}, timeout=30)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _config(tmp_path: Path, path: Path, **settings: object) -> Path:
    lines = ["models:", f"  - {{ref: '{path}', name: numbers}}"]
    lines += [f"{key}: {value}" for key, value in settings.items()]
    config = tmp_path / "serve.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def test_a_crashed_worker_is_replaced_while_requests_keep_succeeding(
        served_paths: dict[str, Path], tmp_path: Path) -> None:
    expected = open_model(served_paths["numeric"]).predict(pd.DataFrame([ROW]))[0]
    with serve("serve", "--config", str(_config(tmp_path, served_paths["numeric"], workers=2))) as server:
        wait_until(lambda: server.metric("modelport_worker_starts_total", reason="initial") == 2, 120,
                   "both workers to start")
        first = server.workers()
        assert len(first) == 2
        answers = [_predict(server.url) for _ in range(20)]

        os.kill(first[0], signal.SIGKILL)
        # a connection the worker accepted in the instant before the signal landed dies with it (any
        # server's crash loses those); once it is gone, the kernel hands every connection to the other
        wait_until(lambda: _gone(first[0]), 30, "the killed worker to be gone")
        answers += [_predict(server.url) for _ in range(30)]
        assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.is_error]
        assert {a.json()["predictions"][0] for a in answers} == {expected}

        wait_until(lambda: len(server.workers()) == 2 and first[0] not in server.workers(), 120,
                   "a replacement worker")
        wait_until(lambda: server.metric("modelport_worker_starts_total", reason="crashed") == 1, 120,
                   "the replacement to start")
        assert first[1] in server.workers()
        # counted by three processes, one of them dead; every scrape, whichever worker answers it, sums all
        for _ in range(6):
            assert server.metric("modelport_requests_total", model="numbers", protocol="v1",
                                 status="2xx") == 50
        assert server.metric("modelport_process_resident_memory_bytes") > 0
        assert server.stop() == 0


def test_a_hung_worker_is_killed_and_replaced(served_paths: dict[str, Path]) -> None:
    with serve(str(served_paths["numeric"]), program=FAST_PROBES) as server:
        wait_until(lambda: len(server.workers()) == 2, 60, "two workers")
        wait_until(lambda: server.metric("modelport_worker_starts_total", reason="initial") == 2, 120,
                   "both workers to start")
        probed = "modelport_worker_probes_total"
        wait_until(lambda: all(server.metric(probed, worker=str(i), outcome="ok") >= 1 for i in range(2)), 60,
                   "the supervisor to see both workers answer")
        hung = server.workers()[0]
        os.kill(hung, signal.SIGSTOP)  # alive, holding the port, answering nothing
        wait_until(lambda: hung not in server.workers() and len(server.workers()) == 2, 60,
                   "the hung worker to be replaced")
        wait_until(lambda: server.metric("modelport_worker_starts_total", reason="unresponsive") == 1, 120,
                   "the replacement to start")
        assert all(_predict(server.url).status_code == 200 for _ in range(10))


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_requests_in_flight_finish(served_paths: dict[str, Path], workers: int) -> None:
    # on the model thread, so that /metrics answers while the slow call runs
    with serve("serve", str(served_paths["fragile"]), "--workers", str(workers), "--inline-below-ms", "0"
               ) as server:
        wait_until(lambda: server.metric("modelport_worker_starts_total") >= workers if workers > 1 else True,
                   120, "the workers to start")
        answers: list[httpx.Response] = []
        slow = threading.Thread(target=lambda: answers.append(_predict(server.url, SLOW, "fragile")))
        slow.start()
        wait_until(lambda: server.metric("modelport_in_flight_requests") >= 1, 30, "the slow request")
        server.process.send_signal(signal.SIGTERM)
        slow.join(60)
        assert [a.status_code for a in answers] == [200], [a.text for a in answers]
        # uvicorn re-raises the signal once drained; the supervisor returns normally
        assert server.process.wait(60) in (0, -signal.SIGTERM)
        with pytest.raises(httpx.TransportError):
            _predict(server.url, name="fragile")


def test_the_server_stops_when_workers_cannot_start(tmp_path: Path) -> None:
    program = FAST_PROBES.replace('"numbers"', '"nothing"')
    port = "1"
    before = _worker_processes()
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path / "gone"), "--port", port],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode != 0
    assert "before it started serving" in done.stderr
    assert _worker_processes() <= before  # no worker left behind, here or re-parented


def _worker_processes() -> set[int]:
    """Every live multiprocessing-spawned process on the machine (workers look like this)."""
    found = set()
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(
                process.info["cmdline"] or ()):
            found.add(process.pid)
    return found
