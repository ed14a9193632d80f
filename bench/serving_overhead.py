"""Per-request overhead of ``modelport serve`` at concurrency 1 against the model's own predict time.

Run: PYTHONPATH=src:. python bench/serving_overhead.py [--requests 2000] [--wrk-seconds 10]
Model: a scaled LogisticRegression on sklearn's bundled breast_cancer data (30 float columns).
The server runs pinned to CPU 0, the load generators to CPU 1 (wrk with a Lua POST script when
installed, and a sequential httpx loop, whose own client cost is part of its figures).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import modelport


def _median_us(func: Callable[[], Any], repeat: int) -> float:
    for _ in range(50):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bodies(row: pd.DataFrame) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    record = row.iloc[0].to_dict()
    columns = [{"name": c, "shape": [1], "datatype": "FP64", "data": [record[c]]} for c in row]
    tensor = [{"name": "features", "shape": [1, row.shape[1]], "datatype": "FP64",
               "data": row.to_numpy().ravel().tolist()}]
    js = {"Content-Type": "application/json"}
    return {
        "v2 columns": ("/v2/models/cancer/infer", json.dumps({"inputs": columns}).encode(), js),
        "v2 tensor": ("/v2/models/cancer/infer", json.dumps({"inputs": tensor}).encode(), js),
        "v1 instances": ("/v1/models/cancer:predict", json.dumps({"instances": [record]}).encode(), js),
        "mlflow split": ("/invocations", json.dumps({"dataframe_split": row.to_dict("split") | {
            "index": None}}).encode(), js),
    }


def _wrk(url: str, body: bytes, headers: dict[str, str], seconds: int) -> dict[str, float]:
    script = Path(tempfile.mkdtemp()) / "post.lua"
    header_lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body.decode())}\n{header_lines}')
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c1", f"-d{seconds}s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    figures = {"requests/s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for name, pattern in (("p50 us", r"50%\s+([\d.]+)(us|ms)"), ("p99 us", r"99%\s+([\d.]+)(us|ms)")):
        match = re.search(pattern, out)
        assert match is not None, out
        figures[name] = float(match.group(1)) * (1000 if match.group(2) == "ms" else 1)
    figures["mean us"] = 1e6 / figures["requests/s"]
    return figures


def _httpx(base: str, path: str, body: bytes, headers: dict[str, str], n: int) -> dict[str, float]:
    with httpx.Client(base_url=base) as client:
        for _ in range(100):
            client.post(path, content=body, headers=headers)
        times = []
        for _ in range(n):
            start = time.perf_counter()
            answer = client.post(path, content=body, headers=headers)
            times.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text
    times.sort()
    return {"p50 us": times[len(times) // 2] * 1e6, "p99 us": times[int(len(times) * 0.99)] * 1e6,
            "mean us": statistics.fmean(times) * 1e6}


def _server_seconds(base: str, protocol: str) -> tuple[float, float]:
    """Sum and count of the server's own request-duration histogram for one protocol."""
    text = httpx.get(f"{base}/metrics").text
    found = {}
    for kind in ("sum", "count"):
        pattern = rf'modelport_request_duration_seconds_{kind}{{[^}}]*protocol="{protocol}"[^}}]*}} (\S+)'
        match = re.search(pattern, text)
        found[kind] = float(match.group(1)) if match else 0.0
    return found["sum"], found["count"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    data = load_breast_cancer(as_frame=True)
    x, y = data.data, data.target
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    root = Path(tempfile.mkdtemp())
    artifact = modelport.pack(pipeline, name="cancer", sample=x, target=y, out=root / "cancer")
    model = modelport.load(artifact.path)
    row = x.iloc[[7]].reset_index(drop=True)
    frame, _ = model.validate(row)
    own = _median_us(lambda: pipeline.predict(row), 2000)
    print(f"sklearn pipeline.predict, 1 row:        {own:8.1f} us")
    print(f"LoadedModel.validate, 1 row:            {_median_us(lambda: model.validate(row), 2000):8.1f} us")
    print(f"LoadedModel.predict_frame(proba=False): "
          f"{_median_us(lambda: model.predict_frame(frame, proba=False), 2000):8.1f} us")
    print(f"LoadedModel.predict, 1 row:             {_median_us(lambda: model.predict(row), 2000):8.1f} us")
    print("in-handler = the server's own modelport_request_duration_seconds (decode, validate, batcher,")
    print("thread hop, predict, encode); the rest of the client latency is HTTP, uvicorn and the client.")

    port = _free_port()
    server = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c",
                               "from modelport.cli.main import main; main()", "serve",
                               str(artifact.path), "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        print("\n| protocol | client | p50 µs | p99 µs | mean µs | requests/s | in-handler mean µs |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for name, (path, body, headers) in _bodies(row).items():
            if shutil.which("wrk"):
                w = _wrk(base + path, body, headers, args.wrk_seconds)
                print(f"| {name} | wrk -c1 | {w['p50 us']:.0f} | {w['p99 us']:.0f} | {w['mean us']:.0f} "
                      f"| {w['requests/s']:.0f} | |")
            protocol = name.split()[0]
            before = _server_seconds(base, protocol)
            h = _httpx(base, path, body, headers, args.requests)
            after = _server_seconds(base, protocol)
            inside = (after[0] - before[0]) / (after[1] - before[1]) * 1e6
            print(f"| {name} | httpx loop x{args.requests} | {h['p50 us']:.0f} | {h['p99 us']:.0f} "
                  f"| {h['mean us']:.0f} | {1e6 / h['mean us']:.0f} | {inside:.0f} |")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
