"""Device check (run on a machine with CUDA): `modelport serve --workers 2 --device auto` on a torch
artifact answers as the CPU does, and every worker's /metrics reports GPU memory and utilisation.

    PYTHONPATH=src:. python scripts/device/gpu_serve_check.py

On the project's GPU machine, whose Python lacks some of the lock's packages, carry them as wheels
(see the device tool's README) and put them first on PYTHONPATH. Exits non-zero on any mismatch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, os.getcwd())
from tests.unit.inference.test_device import _torch_artifact

import modelport

URL = "http://127.0.0.1:8123"


def main() -> None:
    work = Path("/tmp/gpucheck")
    work.mkdir(exist_ok=True)
    artifact, x = _torch_artifact(work)
    expected = modelport.load(artifact.path).predict(x)
    env = {**os.environ, "MODELPORT_HOME": str(work / "home")}
    with open(Path(os.environ.get("OUT", "/tmp")) / "server.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "modelport", "serve", str(artifact.path), "--port",
                                   "8123", "--workers", "2", "--device", "auto", "--log-level", "info"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            check(artifact.path, x, expected)
        finally:
            server.send_signal(signal.SIGTERM)
            print("exit code", server.wait(60))


def check(path: Path, x: np.ndarray, expected: np.ndarray) -> None:
    for _ in range(180):
        try:
            if httpx.get(f"{URL}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    else:
        raise SystemExit("the server never became ready")
    names = modelport.load(path).signature.names
    got = []
    for row in x[:200]:
        body = {"instances": [dict(zip(names, row.tolist(), strict=True))]}
        answer = httpx.post(f"{URL}/v1/models/net:predict", json=body)
        if answer.status_code != 200:
            raise SystemExit(answer.text)
        got.append(answer.json()["predictions"][0])
    np.testing.assert_allclose(got, expected[:200], rtol=1e-5, atol=1e-5)
    print("200 answers from 2 GPU workers equal the CPU's")
    time.sleep(2.5)  # every worker samples its resources each second
    for _ in range(3):  # whichever worker answers the scrape, it shows every worker's figures
        text = httpx.get(f"{URL}/metrics").text
        print([line for line in text.splitlines()
               if line.startswith(("modelport_gpu", "modelport_worker_starts", "modelport_requests_total"))])
        if "modelport_gpu_memory_allocated_bytes" not in text:
            raise SystemExit("no GPU memory gauge on /metrics")


if __name__ == "__main__":
    main()
