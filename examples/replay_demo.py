"""The monitoring half of `make demo`: replay a stream, shifted on purpose, and report the drift.

While the server runs, `replay` sends held-out credit rows as OIP v2 batches of 50 in two phases, rows as
they are and then rows with chosen features shifted, and posts their true Status as delayed labels
to /v2/models/credit/feedback. Once the server has stopped (SIGTERM flushes the prediction log),
`report` runs `modelport monitor report` and prints which features drifted.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from rich.console import Console

console = Console()

BATCH = 50
#: the features the shifted phase moves, and how
SHIFTS = {"Age": "Age + 15", "Amount": "Amount x 1.8"}
ALERT_EXIT = 8


def shift(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as a population of older applicants asking for larger loans would send them."""
    return rows.assign(Age=rows["Age"] + 15, Amount=(rows["Amount"] * 1.8).round().astype("int64"))


def _tensors(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """One OIP v2 input tensor per column (null marks a missing value)."""
    return [{"name": c, "shape": [len(rows), 1], "datatype": "BYTES" if rows[c].dtype == object else "FP64",
             "data": json.loads(rows[c].to_json(orient="values"))} for c in rows]


def _post_batches(client: httpx.Client, rows: pd.DataFrame) -> list[str]:
    # OIP v2, the protocol that answers (and so logs) class probabilities, which the report's
    # ROC AUC, log loss and estimated performance need; its ids come back in "parameters"
    ids: list[str] = []
    for start in range(0, len(rows), BATCH):
        inputs = _tensors(rows.iloc[start:start + BATCH])
        answer = client.post("/v2/models/credit/infer", json={"inputs": inputs})
        answer.raise_for_status()
        ids += answer.json()["parameters"]["prediction_ids"]
    return ids


def replay(base: str, phases: list[tuple[str, pd.DataFrame, pd.Series]]) -> pd.Timestamp:
    """Send each phase's rows in batches of 50 (OIP v2), post every row's true label as feedback;
    return when the replay started."""
    started = pd.Timestamp.now(tz="UTC")
    feedback: list[dict[str, Any]] = []
    with httpx.Client(base_url=base, timeout=30.0) as client:
        for name, rows, labels in phases:
            ids = _post_batches(client, rows)
            feedback += [{"id": i, "label": label} for i, label in zip(ids, labels.tolist(), strict=True)]
            console.print(f"replayed {len(rows)} {name} rows in {-(-len(rows) // BATCH)} batches",
                          highlight=False)
        answer = client.post("/v2/models/credit/feedback", json={"feedback": feedback})
        answer.raise_for_status()
    console.print(f"posted {len(feedback)} delayed labels → {json.dumps(answer.json())[:200]}",
                  highlight=False)
    return started


def report(model: str, out: Path, since: pd.Timestamp, window: int) -> None:
    """Run `modelport monitor report` on the replayed stream (the rows logged from ``since`` on), print
    the drifted features; an alert (exit 8) is expected."""
    html = out / "report.html"
    command = [str(Path(sys.executable).with_name("modelport")), "monitor", "report", model,
               "--from", since.isoformat(), "--window", str(window), "--out", str(html)]
    console.print(" ".join(["$", "modelport", *command[1:]]), highlight=False)
    done = subprocess.run(command, check=False)
    if done.returncode not in (0, ALERT_EXIT):
        raise SystemExit(f"modelport monitor report failed with exit code {done.returncode}")
    # the HTML embeds the report's JSON: the same numbers `--json` writes
    embedded = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                         html.read_text(encoding="utf-8"), re.DOTALL)
    if embedded is None:
        raise SystemExit(f"{html} embeds no report data")
    alerts = json.loads(embedded.group(1))["summary"]["alerts"]
    drifted = sorted(a["subject"] for a in alerts if a["kind"] == "data_drift")
    others = sorted(f"{a['kind']} {a['subject']}" for a in alerts if a["kind"] != "data_drift")
    outcome = "an alert fired, as expected" if done.returncode == ALERT_EXIT else "no alert"
    console.print(f"exit code {done.returncode}: {outcome}", highlight=False)
    console.print(f"[bold]drifted features: {', '.join(drifted) or 'none'}[/] "
                  f"(shifted on purpose: {', '.join(SHIFTS.values())})", highlight=False)
    console.print(f"other alerts: {', '.join(others) or 'none'}", highlight=False)
    console.print(f"HTML report: {html.resolve()}", highlight=False)
    if not set(SHIFTS) <= set(drifted):
        raise SystemExit(f"the report missed a shifted feature: drifted {drifted}, shifted {sorted(SHIFTS)}")
