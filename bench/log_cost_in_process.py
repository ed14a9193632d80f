"""The prediction log's cost per request in process: the server's ASGI app, no sockets, no HTTP.

Run: PYTHONPATH=src:. python bench/log_cost_in_process.py [--model forest] [--rounds 5] [--requests 60000]

Each round starts two fresh processes one after the other, pinned to CPU 0: the app with its log and
without, each called by 64 concurrent in-process callers (one OIP v2 row per request, after 12,800
warm-up requests and, with the log, one flush); the logged one's time runs until its rows are
written. Both processes of a round run with the same ``PYTHONHASHSEED`` (the round's number).
Prints µs per request of each (median over the rounds) and, for the logged one, the CPU time the
log's writing took per request (its thread's from /proc, in clock ticks, and the last flush's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CALLERS = 64
WARMUP = 200  # requests per caller before timing


def _thread_cpu() -> dict[str, float]:
    """Seconds of CPU each Python thread of this process has used (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[thread.name] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def _flush_cpu(log: Any) -> float:
    """Write out what ``log`` holds; the CPU seconds that took."""
    started = time.thread_time()
    log.flush()
    return time.thread_time() - started


def _drive(artifact: str, body: bytes, requests: int, logged: bool) -> dict[str, float]:
    """In this process: time ``requests`` calls of the app by CALLERS callers."""
    from modelport.core.allocator import prefer_for_this_process

    prefer_for_this_process()  # as the command line's server does, before pyarrow loads
    import uvloop

    from modelport.inference.load import load
    from modelport.serving.config import LogConfig, ServerConfig
    from modelport.serving.http.app import build_service, create_app

    warnings.simplefilter("ignore")
    config = ServerConfig(log=LogConfig(root=tempfile.mkdtemp()) if logged else None)
    model = load(artifact, golden_check=False)
    service, metrics = build_service([("bench", "1", model)], config)
    app = create_app(service, metrics)
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/v2/models/bench/infer", "raw_path": b"/v2/models/bench/infer",
             "query_string": b"", "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000)}

    async def call() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        status: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(dict(scope, state={}), receive, send)
        if status != [200]:
            raise RuntimeError(f"answered {status}")

    async def caller(count: int) -> None:
        for _ in range(count):
            await call()

    async def main() -> dict[str, float]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})
        life = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                       inbox.get, outbox.put))
        await outbox.get()
        await asyncio.gather(*(caller(WARMUP) for _ in range(CALLERS)))
        if service.log is not None:  # the first flush's one-off costs (Parquet's first use) in the warm-up
            await asyncio.to_thread(service.log.flush)
        before = _thread_cpu()
        started = time.perf_counter()
        await asyncio.gather(*(caller(requests // CALLERS) for _ in range(CALLERS)))
        final = 0.0
        if service.log is not None:  # the rows still queued are part of what the requests cost
            final = await asyncio.to_thread(_flush_cpu, service.log)
        seconds = time.perf_counter() - started
        after = _thread_cpu()
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await life
        done = requests // CALLERS * CALLERS
        writer = "modelport-prediction-log"
        return {"us": seconds / done * 1e6,
                "writer_us": (after.get(writer, 0.0) - before.get(writer, 0.0) + final) / done * 1e6}

    return uvloop.run(main())


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--drive":
        body = Path(sys.argv[3]).read_bytes()
        print(json.dumps(_drive(sys.argv[2], body, int(sys.argv[4]), sys.argv[5] == "log")))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("forest", "logreg", "credit"), default="forest")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=60_000)
    args = parser.parse_args()
    from bench.serving_peers import build_model, server_for

    work = Path(tempfile.mkdtemp(prefix="modelport-log-cost-"))
    model = build_model(args.model, work)
    body_path = work / "body.json"
    body_path.write_bytes(server_for("modelport", model, 0, work, sys.executable, "tensor")
                          .body(model.rows.iloc[[0]]))
    env = dict(os.environ, PYTHONPATH=f"{Path(__file__).resolve().parents[1] / 'src'}:"
               f"{Path(__file__).resolve().parents[1]}")
    figures: dict[str, list[dict[str, float]]] = {"log": [], "nolog": []}
    for round_ in range(args.rounds):
        for mode in ("log", "nolog"):
            # both processes of a round hash alike: a random seed each spread one mode's runs by ±3 µs
            done = subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--drive",
                                   str(model.artifact), str(body_path), str(args.requests), mode],
                                  env=dict(env, PYTHONHASHSEED=str(round_)), capture_output=True, text=True,
                                  check=True)
            figures[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    logged = statistics.median(f["us"] for f in figures["log"])
    unlogged = statistics.median(f["us"] for f in figures["nolog"])
    writer = statistics.median(f["writer_us"] for f in figures["log"])
    print(f"{args.model}, {CALLERS} callers in process, median of {args.rounds} rounds: "
          f"{logged:.1f} µs a request with the log, {unlogged:.1f} without: the log costs "
          f"{logged - unlogged:.1f} µs ({1 - unlogged / logged:.1%} of the logged throughput); "
          f"its writer thread {writer:.2f} µs of CPU a request")
    for mode, runs in figures.items():
        print(f"  {mode}: " + ", ".join(f"{f['us']:.1f}" for f in runs))


if __name__ == "__main__":
    main()
