"""modelport serve against its peers (MLServer, BentoML, a hand-written FastAPI app) on the same models.

Setup once (each peer in its own venv, pinned in bench/peers/requirements-<peer>.txt; they conflict
with modelport's lock and with each other):

    bash bench/peers/setup.sh                      # builds $MODELPORT_BENCH_ENVS (/work/benchenvs)

Run (modelport from its own environment, this worktree's src first on the path):

    PYTHONPATH=src:. python bench/serving_peers.py [--servers modelport,mlserver-batch,...]
        [--models forest,logreg,credit] [--concurrency 1,16,64] [--seconds 10] [--warmup 2]
        [--repeat 1] [--modelport-input tensor|columns] [--write]

Every server runs one process (one worker) pinned to CPU 0 with taskset, wrk (-t1 -cN, a Lua POST
script, one row per request) pinned to CPU 1. A model's servers run side by side (idle but one) and
each point is taken server after server, so a shared machine's changing load falls on all of them
alike. Before and after a server is measured, each of 20 rows is sent once in its protocol and the
answer must be 200 with the right prediction; a wrk run with any non-2xx answer or socket error is
reported as FAILED (no figures) and the script exits 1. ``--write`` puts
the tables in BENCHMARKS.md, replacing an earlier section of this benchmark.

Servers: ``modelport`` (OIP v2: one FP64 tensor [1, 30], per-column inputs for the credit data;
only the prediction output is requested; every prediction logged, the live drift gauges off with
``--monitor-interval 0``), ``modelport-nolog`` (the same with ``--no-log-predictions``),
``mlserver-batch`` / ``mlserver`` (mlserver-sklearn on a joblib file, OIP v2, adaptive batching
max_batch_size 64, max_batch_time 2 ms / none;
parallel_workers 0 so inference runs in the server process), ``bentoml-batch`` / ``bentoml``
(a batchable / plain ``@bentoml.api``), ``fastapi`` / ``fastapi-async`` (uvicorn, joblib.load,
a pydantic body, ``model.predict`` in a ``def`` / ``async def`` endpoint). Access logs are off.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tests.artifacts import credit_pipeline_on
from tests.data import credit

import modelport

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peers"
ENVS = Path(os.environ.get("MODELPORT_BENCH_ENVS", "/work/benchenvs"))
SERVERS = ("modelport", "mlserver-batch", "mlserver", "bentoml-batch", "bentoml", "fastapi",
           "fastapi-async")
#: modelport without its prediction log, to measure what logging every prediction costs (ask for it)
EXTRA_SERVERS = ("modelport-nolog",)
MODELS = ("forest", "logreg", "credit")
SECTION = "## Serving against peers: MLServer, BentoML, FastAPI"
CHECK_ROWS = 20
JSON = {"Content-Type": "application/json"}
NOTHING_DONE = "no request completed"


@dataclass(frozen=True)
class Model:
    """One benchmark model: its files for each kind of server, the rows sent and their predictions."""

    name: str
    title: str
    artifact: Path          # modelport artifact of the model fitted on a DataFrame
    frame_joblib: Path      # the same model, for servers that hand it a DataFrame
    array_joblib: Path      # fitted on the numpy array of the same data, for servers that hand it one
    tabular: bool           # raw categorical columns: every peer gets records / per-column inputs
    rows: pd.DataFrame      # CHECK_ROWS rows; the first is the one sent under load
    expected: list[str]     # the model's own predictions for rows, as strings
    prediction_output: str  # modelport's name of the prediction output
    own_us: dict[int, float] = field(default_factory=dict)  # model.predict µs by batch rows


@dataclass(frozen=True)
class Server:
    """How to start one server on one model, probe it, and talk to it in its own protocol."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    health: str
    path: str
    body: Callable[[pd.DataFrame], bytes]
    answer: Callable[[Any], list[str]]
    note: str


@dataclass
class Point:
    """One wrk run: figures, or why it failed."""

    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    failed: str = ""


# --- models ------------------------------------------------------------------------------------


def _median_us(func: Callable[[], Any], repeat: int = 200) -> float:
    for _ in range(20):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def build_model(name: str, root: Path) -> Model:
    """Fit (fixed seeds), pack for modelport, dump joblib files for the peers, time model.predict."""
    if name == "credit":
        x, y = credit()
        estimator: Any = credit_pipeline_on(x, y)  # the tests' credit pipeline; cloned unfitted below
        title = ("credit pipeline: impute + scale + one-hot (13 raw columns, 4 categorical) + "
                 "LogisticRegression, credit_data (4,454 rows)")
    else:
        data = load_breast_cancer(as_frame=True)
        x, y = data.data, data.target
        if name == "forest":
            estimator = RandomForestClassifier(n_estimators=100, random_state=0)
            title = "RandomForestClassifier(100 trees), breast_cancer (30 float columns)"
        else:
            estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
            title = "StandardScaler + LogisticRegression, breast_cancer (30 float columns)"
    tabular = name == "credit"
    on_frame = clone(estimator).fit(x, y)
    folder = root / name
    folder.mkdir()
    joblib.dump(on_frame, folder / "frame.joblib")
    rows = x.dropna().iloc[:CHECK_ROWS].reset_index(drop=True)
    expected = [str(v) for v in on_frame.predict(rows)]
    if tabular:
        array_joblib = folder / "frame.joblib"
    else:  # fitted on the array: predicting on one then raises no feature-name warning per call
        on_array = clone(estimator).fit(x.to_numpy(), y.to_numpy())
        agree = on_array.predict(x.to_numpy()) == on_frame.predict(x)
        assert agree.all(), f"{name}: the array-fitted copy predicts differently"
        array_joblib = folder / "array.joblib"
        joblib.dump(on_array, array_joblib)
    artifact = modelport.pack(on_frame, name=name, sample=x, target=y, out=folder / "artifact")
    loaded = modelport.load(artifact.path)
    outputs = [o.name for o in loaded.signature.outputs]
    model = Model(name, title, artifact.path, folder / "frame.joblib", array_joblib, tabular, rows,
                  expected, outputs[0] if outputs else "prediction")
    for n in (1, 64):
        batch = x.dropna().iloc[:n]
        model.own_us[n] = _median_us(lambda batch=batch: on_frame.predict(batch))  # type: ignore[misc]
    return model


# --- request bodies, one per protocol -----------------------------------------------------------


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return rows.to_dict("records")  # type: ignore[return-value]


def _v2_datatype(series: pd.Series) -> str:
    kind = series.dtype.kind
    return {"f": "FP64", "i": "INT64", "u": "INT64", "b": "BOOL"}.get(kind, "BYTES")


def _v2_columns(rows: pd.DataFrame, str_parameter: bool) -> list[dict[str, Any]]:
    inputs = []
    for column in rows:
        entry: dict[str, Any] = {"name": column, "shape": [len(rows)],
                                 "datatype": _v2_datatype(rows[column]),
                                 "data": rows[column].tolist()}
        if str_parameter and entry["datatype"] == "BYTES":
            entry["parameters"] = {"content_type": "str"}
        inputs.append(entry)
    return inputs


def _v2_tensor(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"name": "features", "shape": list(rows.shape), "datatype": "FP64",
             "data": rows.to_numpy(dtype=np.float64).ravel().tolist()}]


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _v2_answer(output: str | None) -> Callable[[Any], list[str]]:
    def answer(body: Any) -> list[str]:
        found = [o for o in body["outputs"] if output is None or o["name"] == output]
        return [str(v) for v in found[0]["data"]]
    return answer


def server_for(kind: str, model: Model, port: int, work: Path, python: str, modelport_input: str
               ) -> Server:
    """The command line, environment, probe and protocol of one server on one model."""
    if kind in ("modelport", "modelport-nolog"):
        outputs = [{"name": model.prediction_output}]
        # the live drift gauges (recomputed every 60 s over the last hour of the log) stay off: the
        # servers of a model run side by side on one core, and a recomputation would land in
        # whichever server's turn is being measured, a peer's as likely as modelport's own
        options = ["--no-log-predictions"] if kind == "modelport-nolog" else ["--monitor-interval", "0"]
        env = {"PYTHONPATH": f"{ROOT / 'src'}:{os.environ.get('PYTHONPATH', '')}",
               "MODELPORT_HOME": str(work / "modelport-home")}

        def modelport_body(rows: pd.DataFrame) -> bytes:
            columns = model.tabular or modelport_input == "columns"
            inputs = _v2_columns(rows, False) if columns else _v2_tensor(rows)
            return _dumps({"inputs": inputs, "outputs": outputs})

        shape = ("per-column inputs (INT64, FP64, BYTES)" if model.tabular else
                 "one FP64 input per column" if modelport_input == "columns" else "one FP64 tensor [1, 30]")
        return Server([python, "-c", "from modelport.cli.main import main; main()", "serve",
                       str(model.artifact), "--port", str(port), *options], env, ROOT, "/readyz",
                      f"/v2/models/{model.name}/infer", modelport_body,
                      _v2_answer(model.prediction_output), f"OIP v2, {shape}, outputs=[prediction]")
    if kind.startswith("mlserver"):
        repo = work / f"mlserver-{port}"
        (repo / model.name).mkdir(parents=True)
        ports = [_free_port(), _free_port()]
        (repo / "settings.json").write_text(json.dumps({
            "debug": False, "host": "127.0.0.1", "http_port": port, "grpc_port": ports[0],
            "metrics_port": ports[1], "parallel_workers": 0}))
        settings: dict[str, Any] = {
            "name": model.name, "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": str(model.array_joblib), "version": "v1"}}
        if kind == "mlserver-batch":
            settings |= {"max_batch_size": 64, "max_batch_time": 0.002}
        (repo / model.name / "model-settings.json").write_text(json.dumps(settings))

        def mlserver_body(rows: pd.DataFrame) -> bytes:
            if model.tabular:  # MLServer's pandas codec: one input per column, strings as BYTES
                return _dumps({"parameters": {"content_type": "pd"}, "inputs": _v2_columns(rows, True)})
            return _dumps({"inputs": _v2_tensor(rows)})

        shape = ("per-column inputs, request content_type pd (BYTES columns as str)" if model.tabular
                 else "one FP64 tensor [1, 30]")
        return Server([str(ENVS / "mlserver" / "bin" / "mlserver"), "start", str(repo)], {}, repo,
                      f"/v2/models/{model.name}/ready", f"/v2/models/{model.name}/infer",
                      mlserver_body, _v2_answer(None), f"OIP v2, {shape}")
    if kind.startswith("bentoml"):
        service = ("Records" if model.tabular else "Array") + ("Batched" if kind == "bentoml-batch"
                                                                  else "Plain")
        env = {"BENCH_MODEL": str(model.array_joblib), "BENTOML_HOME": str(work / "bentoml-home"),
               "BENTOML_DO_NOT_TRACK": "True"}

        def bentoml_body(rows: pd.DataFrame) -> bytes:
            if model.tabular:
                return _dumps({"rows": _records(rows)})
            return _dumps({"features": rows.to_numpy(dtype=np.float64).tolist()})

        shape = ('{"rows": [record]} (pydantic records)' if model.tabular
                 else '{"features": [[30 floats]]} (np.ndarray)')
        return Server([str(ENVS / "bentoml" / "bin" / "bentoml"), "serve",
                       f"bento_service:{service}", "--host", "127.0.0.1", "--port", str(port)],
                      env, PEERS, "/readyz", "/predict", bentoml_body, lambda body: [str(v) for v in body],
                      f"JSON {shape}")
    env = {"BENCH_MODEL": str(model.array_joblib), "BENCH_ASYNC": "1" if kind == "fastapi-async" else "0"}

    def fastapi_body(rows: pd.DataFrame) -> bytes:
        if model.tabular:
            return _dumps(_records(rows.iloc[:1])[0])
        return _dumps({"features": rows.iloc[0].to_numpy(dtype=np.float64).tolist()})

    shape = "one record (pydantic model, 13 typed fields)" if model.tabular else '{"features": [30 floats]}'
    return Server([str(ENVS / "fastapi" / "bin" / "uvicorn"), "fastapi_app:app", "--host", "127.0.0.1",
                   "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                   "--log-level", "warning"], env, PEERS, "/health",
                  "/predict_credit" if model.tabular else "/predict", fastapi_body,
                  lambda body: [str(v) for v in body["prediction"]], f"JSON {shape}")


# --- running servers and wrk --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Running:
    """A server process group pinned to CPU 0, started in its own session and stopped as a group."""

    def __init__(self, server: Server, base: str, log: Path) -> None:
        self.base = base
        self.log = log
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | server.env
        with log.open("wb") as out:
            self.process = subprocess.Popen(["taskset", "-c", "0", *server.argv], cwd=server.cwd,
                                            env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, path: str, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.tail()}")
            try:
                if httpx.get(self.base + path, timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {seconds:.0f} s: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def check_answers(server: Server, model: Model, base: str) -> None:
    """Each check row, one per request, must answer 200 with the model's own prediction."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for i in range(len(model.rows)):
            answer = client.post(server.path, content=server.body(model.rows.iloc[[i]]), headers=JSON)
            if answer.status_code != 200:
                raise RuntimeError(f"row {i}: HTTP {answer.status_code}: {answer.text[:500]}")
            got = server.answer(answer.json())
            if got != [model.expected[i]]:
                raise RuntimeError(f"row {i}: predicted {got}, the model says {model.expected[i]!r}")


def _to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(url: str, body: bytes, connections: int, seconds: float, script_dir: Path) -> Point:
    script = script_dir / "post.lua"
    script.write_text('wrk.method = "POST"\n'
                      f"wrk.body = {json.dumps(body.decode())}\n"
                      'wrk.headers["Content-Type"] = "application/json"\n')
    done = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                           "--timeout", "10s", "--latency", "-s", str(script), url],
                          capture_output=True, text=True)
    out = done.stdout + done.stderr
    if done.returncode != 0:
        return Point(failed=f"wrk exited {done.returncode}: {out[-300:]}")
    total = re.search(r"(\d+) requests in", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if total is None or int(total.group(1)) == 0:
        return Point(failed=NOTHING_DONE)
    if non_2xx or errors:
        why = [f"{non_2xx.group(1)} non-2xx of {total.group(1)}"] if non_2xx else []
        why += [f"socket errors: {errors.group(1).strip()}"] if errors else []
        return Point(failed="; ".join(why))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    if rps is None or p50 is None or p99 is None:
        return Point(failed=f"could not read wrk's output: {out[-300:]}")
    return Point(float(rps.group(1)), _to_ms(*p50.groups()), _to_ms(*p99.groups()))


class Contender:
    """One server on one model while it is benchmarked: its process, protocol and figures so far."""

    def __init__(self, kind: str, model: Model, work: Path, modelport_input: str) -> None:
        self.kind = kind
        port = _free_port()
        self.server = server_for(kind, model, port, work, sys.executable, modelport_input)
        self.base = f"http://127.0.0.1:{port}"
        self.url = self.base + self.server.path
        self.body = self.server.body(model.rows.iloc[[0]])
        self.points: dict[int, Point] = {}
        self.failure = ""
        self.running = Running(self.server, self.base, work / f"{kind}-{model.name}.log")

    def fail(self, why: str) -> None:
        self.failure = " ".join(why.split())[:300]
        self.running.stop()

    def keep(self, connections: int, point: Point) -> None:
        """A failed run fails the point for good; otherwise the run with most requests/s stands."""
        best = self.points.get(connections)
        if best is None or point.failed or (not best.failed and point.rps > best.rps):
            self.points[connections] = point

    def results(self, concurrency: list[int]) -> dict[int, Point]:
        return {c: self.points.get(c) or Point(failed=self.failure or "not run") for c in concurrency}


def bench_model(model: Model, args: argparse.Namespace, work: Path, log: Callable[[str], None]
                ) -> tuple[dict[str, dict[int, Point]], dict[str, str]]:
    """Start every server on the model side by side, then take each point server after server.

    Interleaving (rather than one server after another) spreads the shared machine's changing
    load over all servers alike; the servers not under load sit idle on CPU 0.
    """
    contenders = [Contender(kind, model, work, args.modelport_input) for kind in args.servers]
    try:
        for c in contenders:
            try:
                c.running.wait_ready(c.server.health)
                check_answers(c.server, model, c.base)
                if args.warmup > 0:
                    warm = run_wrk(c.url, c.body, max(args.concurrency), args.warmup, work)
                    if warm.failed and warm.failed != NOTHING_DONE:  # a slow server may finish none
                        raise RuntimeError(f"warm-up: {warm.failed}")
            except RuntimeError as exc:
                c.fail(str(exc))
                log(f"  {c.kind:14} FAILED: {c.failure}")
        for connections in args.concurrency:
            for _ in range(args.repeat):
                for c in contenders:
                    if not c.failure:
                        c.keep(connections, run_wrk(c.url, c.body, connections, args.seconds, work))
            for c in contenders:
                point = c.results([connections])[connections]
                shown = (f"FAILED: {point.failed}" if point.failed else
                         f"{point.rps:8.0f} req/s  p50 {point.p50_ms:7.2f} ms  p99 {point.p99_ms:7.2f} ms")
                log(f"  {c.kind:14} -c{connections:<3} {shown}")
        for c in contenders:
            if not c.failure:
                try:
                    check_answers(c.server, model, c.base)  # still right after the load
                except RuntimeError as exc:
                    c.fail(f"after the load: {exc}")
                    log(f"  {c.kind:14} FAILED: {c.failure}")
                    c.points = {}
    finally:
        for c in contenders:
            c.running.stop()
    return ({c.kind: c.results(args.concurrency) for c in contenders},
            {c.kind: c.server.note for c in contenders})


# --- report -------------------------------------------------------------------------------------


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if ours and theirs else "-"


def table(model: Model, results: dict[str, dict[int, Point]], concurrency: list[int]) -> list[str]:
    lines = [f"### {model.title}", "",
             f"The model's own `predict` on a DataFrame in the benchmark process (CPU 1): 1 row "
             f"{model.own_us[1]:,.0f} µs, 64 rows {model.own_us[64]:,.0f} µs.", "",
             "| server | connections | requests/s | p50 ms | p99 ms | modelport/peer requests/s "
             "| modelport/peer p99 |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    ours = results.get("modelport", {})
    for kind, points in results.items():
        for connections in concurrency:
            point = points[connections]
            if point.failed:
                lines.append(f"| {kind} | {connections} | FAILED: {point.failed} | | | | |")
                continue
            mine = ours.get(connections, Point(failed="not run"))
            same = kind == "modelport" or mine.failed
            lines.append(f"| {kind} | {connections} | {point.rps:,.0f} | {point.p50_ms:.2f} | "
                         f"{point.p99_ms:.2f} | {'' if same else _ratio(mine.rps, point.rps)} | "
                         f"{'' if same else _ratio(mine.p99_ms, point.p99_ms)} |")
    return lines


def _versions() -> str:
    found = []
    for peer, packages in (("mlserver", ("mlserver", "mlserver-sklearn")), ("bentoml", ("bentoml",)),
                           ("fastapi", ("fastapi", "uvicorn"))):
        pins = PEERS / f"requirements-{peer}.txt"
        if pins.exists():
            for line in pins.read_text().splitlines():
                if line.split("==")[0].lower() in packages:
                    found.append(line.strip())
    return ", ".join(found)


def write_section(text: str, path: Path) -> None:
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    start = current.find(SECTION)
    if start == -1:
        path.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    end = current.find("\n## ", start + len(SECTION))
    rest = current[end + 1:] if end != -1 else ""
    path.write_text(current[:start] + text + ("\n" + rest if rest else ""))


def _names(value: str, allowed: tuple[str, ...]) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {', '.join(allowed)}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", type=lambda v: _names(v, SERVERS + EXTRA_SERVERS),
                        default=list(SERVERS))
    parser.add_argument("--models", type=lambda v: _names(v, MODELS), default=list(MODELS))
    parser.add_argument("--concurrency", default=[1, 16, 64],
                        type=lambda v: list(dict.fromkeys(int(c) for c in v.split(","))))
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration of each point")
    parser.add_argument("--warmup", type=int, default=2, help="wrk seconds at the top concurrency first")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per point, interleaved across servers; the best requests/s stands")
    parser.add_argument("--modelport-input", choices=("tensor", "columns"), default="tensor",
                        help="modelport's OIP v2 body for the numeric models (the credit data is per column)")
    parser.add_argument("--write", action="store_true", help="put the tables in BENCHMARKS.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    missing = [p for p in ("mlserver", "bentoml", "fastapi") if any(s.startswith(p) for s in args.servers)
               and not (ENVS / p / "bin" / "python").exists()]
    if missing:
        sys.exit(f"no venv for {', '.join(missing)} under {ENVS}: run bash bench/peers/setup.sh")
    os.sched_setaffinity(0, {1})
    started = datetime.datetime.now()
    load_before = os.getloadavg()

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    failed = False
    sections: list[str] = []
    notes: dict[str, dict[str, list[str]]] = {}  # server -> request body -> models
    with tempfile.TemporaryDirectory(prefix="serving-peers-") as tmp:
        work = Path(tmp)
        for name in args.models:
            log(f"{name}: fitting and packing")
            model = build_model(name, work)
            results, served = bench_model(model, args, work, log)
            for kind, note in served.items():
                notes.setdefault(kind, {}).setdefault(note, []).append(name)
            failed = failed or any(p.failed for points in results.values() for p in points.values())
            sections += [*table(model, results, args.concurrency), ""]
    load_after = os.getloadavg()
    command = "PYTHONPATH=src:. python bench/serving_peers.py " + " ".join(sys.argv[1:])
    about = (f"`{command.strip()}` — {args.seconds} s of wrk per point after a {args.warmup} s warm-up"
             + (f", best of {args.repeat} runs" if args.repeat > 1 else "") + "; "
             "one process per server pinned to CPU 0 (taskset), wrk -t1 -cN pinned to CPU 1, one row per "
             "request; a model's servers run side by side and each point is taken server after server, "
             "so the machine's changing load falls on all alike; every server checked for 200 and the "
             "right prediction on 20 rows before and after its runs. Peers from bench/peers/setup.sh: "
             + _versions() + ". "
             f"Shared 2-core machine: load average {load_before[0]:.1f} before, "
             f"{load_after[0]:.1f} after, so figures are noisy. Ratios are modelport's figure "
             "divided by the peer's in the same run (requests/s: above 1 is better; p99: below 1 is "
             "better).")
    header = [f"{SECTION} ({started:%Y-%m-%d})", "", textwrap.fill(about, 100, break_on_hyphens=False),
              "", "Request bodies:", ""]
    header += [textwrap.fill(f"- {kind}: " + "; ".join(f"{', '.join(names)}: {note}"
                                                      for note, names in bodies.items()),
                             100, subsequent_indent="  ", break_on_hyphens=False)
               for kind, bodies in notes.items()] + [""]
    text = "\n".join(header + sections).rstrip("\n") + "\n"
    print(text)
    if args.write:
        write_section(text, ROOT / "BENCHMARKS.md")
    if failed:
        sys.exit("some runs FAILED (see the tables): their figures are not reported")


if __name__ == "__main__":
    main()
