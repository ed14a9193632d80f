"""The serving half of `make demo`: serve credit@production and call it in every protocol.

Started by credit_demo.py after the registry steps; it runs `modelport serve --workers 2` (a supervisor
and two worker processes on one port) as a real process on a
free port on 127.0.0.1, waits for readiness, sends good and bad requests, prints the answers, runs
`then` (the replay of a stream) against it, and stops it with SIGTERM (which flushes the prediction log).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from rich.console import Console

console = Console()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"modelport serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/v2/health/ready", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready in time")


def _show(label: str, response: httpx.Response) -> None:
    body: Any = response.json() if response.headers.get("content-type", "").startswith(
        "application/json") else response.text
    text = json.dumps(body)
    console.print(f"[bold]{label}[/] → {response.status_code} {text[:300]}", highlight=False)


def serve_and_call(ref: str, rows: pd.DataFrame, then: Callable[[str], None] | None = None) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).with_name("modelport")), "serve", ref, "--port", str(port),
               "--workers", "2"]
    server = subprocess.Popen(command, env=os.environ.copy())
    try:
        _wait_ready(base, server)
        records = json.loads(rows.head(2).to_json(orient="records"))
        columns = {c: json.loads(rows.head(2)[c].to_json(orient="values")) for c in rows}
        v2_inputs = [{"name": c, "shape": [2, 1],
                      "datatype": "BYTES" if rows[c].dtype == object else "FP64",
                      "data": values} for c, values in columns.items()]
        _show("OIP v2  POST /v2/models/credit/infer", httpx.post(
            f"{base}/v2/models/credit/infer", json={"inputs": v2_inputs}))
        _show("KServe  POST /v1/models/credit:predict", httpx.post(
            f"{base}/v1/models/credit:predict", json={"instances": records}))
        _show("MLflow  POST /invocations (dataframe_records)", httpx.post(
            f"{base}/invocations", json={"dataframe_records": records}))
        bad = [{**records[0], "Home": "castle", "Age": "forty"}]
        _show("bad     POST /invocations (unknown category, wrong type)", httpx.post(
            f"{base}/invocations", json={"dataframe_records": bad}))
        _show("bad     POST /v1/models/credit:predict (not JSON)", httpx.post(
            f"{base}/v1/models/credit:predict", content=b"{not json"))
        _show("bad     POST /v2/models/nope/infer", httpx.post(
            f"{base}/v2/models/nope/infer", json={"inputs": v2_inputs}))
        metrics = httpx.get(f"{base}/metrics").text.splitlines()
        requests = [line for line in metrics
                    if line.startswith(("modelport_requests_total{", "modelport_worker_starts_total{"))]
        console.print("metrics:", highlight=False)
        for line in requests:
            console.print(f"  {line}", highlight=False, soft_wrap=True)
        if then is not None:
            then(base)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
