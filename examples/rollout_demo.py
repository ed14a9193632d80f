"""The rollout half of `make demo`: shadow a second version, canary it to production, canary a broken one.

credit_demo.py calls :func:`run_rollouts` once the monitoring report is written. It starts a fresh
`modelport serve` with MODELPORT_ADMIN_TOKEN set and an endpoint `credit` whose plan follows
credit@production, then drives it with `modelport rollout ...` (real CLI processes) and single-row
requests of held-out applications:

1. shadow: the candidate (the shallower credit model step 6 registered) gets a copy of every
   request after the primary answered; `modelport rollout compare credit` prints how they agree;
2. canary: the candidate takes 20 %, then 50 % of traffic while its gates pass against the
   primary on the same window, and is promoted (credit@production moves) without a hand on it;
3. broken canary: a version whose packed preprocessing raises on applications without an Income
   (8 % of them) is rolled back by its error-rate gate, and the demo prints the gate's numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from rich.console import Console
from serve_demo import _free_port, _wait_ready

import modelport

console = Console()
ENDPOINT = "credit"
#: a candidate's packed preprocessing that was only ever tried on complete applications
BROKEN_PREPROCESS = '''"""credit v3: a new debt-to-income feature, written against complete rows only."""


def preprocess(frame):
    if frame["Income"].isna().any():
        raise ValueError("Income is missing: cannot compute the debt-to-income ratio")
    return frame
'''
#: the rollout server follows plans, judges canaries and flushes its log every fraction of a second
SERVE_FILE = f"""endpoints:
  {ENDPOINT}: credit@production
plan_poll: 0.5
canary_tick: 1
log_flush_interval: 0.25
dashboard: false
monitor_interval: 0
"""
#: the demo's canary gates: a short interval and 100 requests a side, so it finishes in seconds; the
#: p99 ratio is generous because the demo shares its CPUs with whatever else runs (a p99 of a hundred
#: requests is nearly their slowest one)
CANARY = ["--steps", "20,50,100", "--interval", "3s", "--min-requests", "100", "--max-error-rate", "0.01",
          "--max-p99-ratio", "3", "--max-disagreement", "0.1"]
DRIVE_TIMEOUT_S = 60.0


def _modelport(*args: str, env: dict[str, str]) -> None:
    """Run `modelport ARGS` as a user would, its output going to the terminal."""
    console.print(f"$ modelport {' '.join(args)}", highlight=False)
    command = [str(Path(sys.executable).with_name("modelport")), *args]
    done = subprocess.run(command, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"modelport {args[0]} {args[1]} failed with exit code {done.returncode}")


@contextlib.contextmanager
def _server(config: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """`modelport serve --config` on a free port; its own log (a traceback per failed request of the
    broken version) goes to ``log``, not the terminal."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).with_name("modelport")), "serve", "--config", str(config),
               "--port", str(port)]
    with log.open("w") as stderr:
        server = subprocess.Popen(command, env=env, stderr=stderr)
        try:
            _wait_ready(base, server)
            yield base
        except BaseException:
            console.print(f"[red]the server's log: {log.resolve()}[/]", highlight=False)
            raise
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


class Traffic:
    """Single-row KServe v1 requests of held-out applications, taken in turn, to the endpoint."""

    def __init__(self, base: str, rows: pd.DataFrame, token: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30.0)
        self.records: list[dict[str, Any]] = json.loads(rows.to_json(orient="records"))
        self.admin = {"Authorization": f"Bearer {token}"}
        self.sent = 0
        self.answered: dict[str, int] = {}

    def send(self, count: int) -> None:
        for _ in range(count):
            record = self.records[self.sent % len(self.records)]
            self.sent += 1
            answer = self.client.post(f"/v1/models/{ENDPOINT}:predict", json={"instances": [record]})
            who = f"{answer.headers.get('Modelport-Version', 'failed')} {answer.status_code}"
            self.answered[who] = self.answered.get(who, 0) + 1

    def status(self) -> dict[str, Any]:
        answer = self.client.get(f"/admin/endpoints/{ENDPOINT}", headers=self.admin)
        answer.raise_for_status()
        return dict(answer.json())

    def put_plan(self, plan: dict[str, Any], reason: str) -> None:
        answer = self.client.put(f"/admin/endpoints/{ENDPOINT}", headers=self.admin,
                                 json={"plan": plan, "reason": reason})
        answer.raise_for_status()

    def until_canary_ends(self) -> None:
        """Send traffic (the canary loop judges what the log holds) until the plan has no canary,
        printing each new step of the canary's progress."""
        deadline = time.monotonic() + DRIVE_TIMEOUT_S
        said = ""
        self.answered = {}
        while "canary" in (status := self.status())["plan"]:
            if time.monotonic() > deadline:
                raise SystemExit(f"the canary did not finish in {DRIVE_TIMEOUT_S:.0f} s: {status['state']}")
            reason = (status.get("state") or {}).get("reason", "")
            if reason and reason.split(":")[0] != said.split(":")[0]:
                console.print(f"  canary: {reason}", highlight=False)
            said = reason or said
            self.send(20)
        console.print("  answers by version and status: " + ", ".join(
            f"{who} x{count}" for who, count in sorted(self.answered.items())), highlight=False)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _last_change(registry: modelport.Registry) -> tuple[Any, dict[str, Any]]:
    change = registry.endpoints.history(ENDPOINT)[-1]
    return change, change.detail or {}


def _pack_broken(model: Any, x_train: pd.DataFrame, y_train: pd.Series, out: Path) -> Path:
    """The production model again, behind the broken preprocessing (packed from complete rows, so its
    golden check passes; Income stays nullable, so the missing ones reach the model and fail there)."""
    code = out / "broken_preprocess.py"
    code.parent.mkdir(parents=True, exist_ok=True)
    code.write_text(BROKEN_PREPROCESS)
    complete = x_train["Income"].notna()
    packed = modelport.pack(model, name="credit", sample=x_train[complete], target=y_train[complete],
                            preprocess=code, columns={"Income": {"nullable": True}}, out=out / "credit-v3")
    return packed.path


def run_rollouts(model: Any, x_train: pd.DataFrame, y_train: pd.Series, x_test: pd.DataFrame,
                 candidate: str, out: Path) -> None:
    """Shadow ``candidate`` (a registry reference), canary it to production, then roll back a broken
    version automatically; ``model`` is the production pipeline the broken version wraps."""
    started = time.monotonic()
    registry = modelport.open_registry()
    # packed before the server starts: packing (golden rows, importances) and serving would share the CPUs
    broken = registry.register(_pack_broken(model, x_train, y_train, out),
                               reason="debt-to-income feature (broken on missing Income)")
    console.print(f"registered {broken.ref}: the production model behind a preprocessing that raises on "
                  "a missing Income (its golden rows are complete, so it passes its checks)", highlight=False)
    token = secrets.token_urlsafe(16)
    env = {**os.environ, "MODELPORT_ADMIN_TOKEN": token}
    config = out / "rollout-serve.yaml"
    config.write_text(SERVE_FILE)
    log = out / "rollout-server.log"
    console.print(f"$ MODELPORT_ADMIN_TOKEN=… modelport serve --config {config}  (its log: {log})\n"
                  f"{SERVE_FILE}", highlight=False)
    with _server(config, env, log) as base:
        traffic = Traffic(base, x_test, token)

        console.print(f"[bold]shadow[/]: {candidate} gets a copy of each request, answers nobody")
        shadow_from = pd.Timestamp.now(tz="UTC")
        _modelport("rollout", "shadow", ENDPOINT, candidate, "--server", base, env=env)
        traffic.send(300)
        answered = sum(n for who, n in traffic.answered.items() if who.endswith(" 200"))
        deadline = time.monotonic() + 30  # each answered request's copy: answered, failed or dropped
        while sum(traffic.status()["shadow_copies"].values()) < answered and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.6)  # the log flushes every 0.25 s
        _modelport("rollout", "compare", ENDPOINT, "--from", shadow_from.isoformat(), "--top", "3", env=env)
        traffic.put_plan({"primary": "credit@production"}, reason="shadow compared; canary next")

        console.print(f"[bold]canary[/]: {candidate} through 20 % and 50 % of traffic, then promoted")
        _modelport("rollout", "canary", ENDPOINT, candidate, *CANARY, "--server", base, env=env)
        traffic.until_canary_ends()
        change, detail = _last_change(registry)
        if change.action != "promote":
            raise SystemExit(f"the good canary was not promoted: {change.action}: {change.reason}")
        console.print(f"  {change.who}: {change.action} {detail.get('from')} -> {detail.get('to')}: "
                      f"{change.reason}", highlight=False)
        production = registry.resolve("credit@production").version
        console.print(f"  credit@production is now version {production.version if production else '?'}",
                      highlight=False)

        console.print(f"[bold]broken canary[/]: {broken.ref} raises on applications without an Income")
        _modelport("rollout", "canary", ENDPOINT, broken.ref, *CANARY, "--server", base, env=env)
        traffic.until_canary_ends()
        change, detail = _last_change(registry)
        if change.action != "rollback":
            raise SystemExit(f"the broken canary was not rolled back: {change.action}: {change.reason}")
        console.print(f"  [bold]{change.who}: {change.action}[/]: {change.reason}", highlight=False)
        for gate in detail.get("gates", []):
            console.print(f"    {gate['gate']}: {gate['outcome']} (measured {_number(gate['value'])}, "
                          f"threshold {_number(gate['threshold'])})", highlight=False)
        _modelport("rollout", "status", ENDPOINT, "--server", base, env=env)
        traffic.client.close()
    console.print(f"rollouts took {time.monotonic() - started:.0f} s", highlight=False)
