"""``modelport serve`` as a real process on 127.0.0.1: start it, wait until ready, find its workers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import psutil

SERVE = "from modelport.cli.main import main; main()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server process and the base URL it answers on."""

    process: subprocess.Popen[str]
    url: str

    def workers(self) -> list[int]:
        """Pids of the worker processes (not multiprocessing's resource tracker)."""
        pids = []
        for child in psutil.Process(self.process.pid).children():
            with contextlib.suppress(psutil.Error):  # gone or a zombie not yet reaped: not a worker
                if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                    pids.append(child.pid)
        return sorted(pids)

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples whose labels include ``labels``, from one scrape."""
        total = 0.0
        for line in httpx.get(f"{self.url}/metrics").text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            head, value = line.rsplit(" ", 1)
            if all(f'{key}="{wanted}"' in head for key, wanted in labels.items()):
                total += float(value)
        return total

    def stop(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _ready(server: Server) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"modelport serve exited with {server.process.returncode}: "
                             f"{server.process.stderr.read() if server.process.stderr else ''}")
    try:
        return httpx.get(f"{server.url}/v2/health/ready").status_code == 200
    except httpx.TransportError:
        return False


@contextlib.contextmanager
def serve(*args: str, program: str = SERVE, ready: bool = True) -> Iterator[Server]:
    """``modelport serve ARGS --port P`` (or another ``python -c`` program taking ARGS and the port)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", program, *args, "--port", str(port)],
                               env=os.environ.copy(), stderr=subprocess.PIPE, text=True)
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        if ready:
            wait_until(lambda: _ready(server), 180, "the server to become ready")
        yield server
    finally:
        if process.poll() is None:
            server.stop()
        if process.stderr is not None:
            process.stderr.close()
