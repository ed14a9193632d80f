"""A batch run stopped in the middle resumes with ``--resume``: every row exactly once (in the output and
in the prediction log), no process left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.ensemble import RandomForestClassifier

import modelport
from modelport.batch.output import JOURNAL, SUMMARY
from modelport.predictions import read_predictions
from modelport.settings import Settings
from tests.data import numeric_classification
from tests.integration.batch_files import read_output, write

ROWS, CHUNK = 60_000, 200
ROOT = Path(__file__).resolve().parents[2]


def _command(*args: object) -> list[str]:
    return [sys.executable, "-c", "from modelport.cli.main import main; main()", "batch",
            *(str(a) for a in args)]


def _env() -> dict[str, str]:
    source = Path(modelport.__file__).resolve().parents[1]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(ROOT)])}


def _wait_for(condition: object, what: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _finished(out: Path) -> int:
    journal = out / JOURNAL
    return len(journal.read_text().splitlines()) if journal.exists() else 0


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_stopped_run_resumes_with_every_row_exactly_once(tmp_path: Path, stop: signal.Signals) -> None:
    x, y = numeric_classification(ROWS, seed=4)
    model = RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0).fit(x[:2000], y[:2000])
    modelport.pack(model, name="forest", sample=x[:2000], target=y[:2000], out=tmp_path / "forest")
    source = write(x.assign(key=np.arange(ROWS) * 3), tmp_path / "in.parquet")
    out = tmp_path / "out"
    args = (tmp_path / "forest", source, out, "--chunk-rows", CHUNK, "--workers", 2, "--id-column", "key")

    run = subprocess.Popen(_command(*args), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: _finished(out) >= 3, "three finished chunks")
    pool = psutil.Process(run.pid).children(recursive=True)
    os.kill(run.pid, stop)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode != 0, stderr
    assert not (out / SUMMARY).exists()
    assert 3 <= _finished(out) < ROWS // CHUNK
    _wait_for(lambda: all(_gone(p) for p in pool), "the pool processes to exit", timeout_s=60)

    resumed = subprocess.run(_command(*args, "--resume", "--json"), env=_env(), capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert (summary["rows"], summary["chunks"], summary["rejected"]) == (ROWS, ROWS // CHUNK, 0)
    assert summary["resumed_chunks"] >= 3

    got = read_output(out)
    assert len(got) == ROWS
    assert sorted(got["key"]) == list(np.arange(ROWS) * 3)
    assert got["run_id"].nunique() == 1
    got = got.sort_values("key")
    np.testing.assert_allclose(got[["proba_0", "proba_1"]], model.predict_proba(x), rtol=1e-12)
    assert not list(out.glob(".*.tmp"))
    # the prediction log too holds every row once: a chunk scored again replaced its own segment
    logged = read_predictions(Settings.from_env().predictions, "forest")
    assert len(logged) == ROWS
    assert set(logged["id"]) == {f"{got['run_id'].iloc[0]}-{key}" for key in np.arange(ROWS) * 3}


def test_a_run_failed_on_its_rejects_exits_and_leaves_no_process(tmp_path: Path) -> None:
    x, y = numeric_classification(2000, seed=4)
    modelport.pack(RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y), name="forest",
                   sample=x, target=y, out=tmp_path / "forest")
    bad = x.assign(x1=x["x1"].astype(object))
    bad.loc[:400, "x1"] = None  # not nullable: the first chunk alone rejects more than 1 % of the input
    source = write(pd.concat([bad] * 20, ignore_index=True).astype({"x1": float}), tmp_path / "in.parquet")
    # every pool process inherits the run's stdout: run() returns only once none is left
    run = subprocess.run(_command(tmp_path / "forest", source, tmp_path / "out", "--chunk-rows", 500,
                                  "--workers", 2), env=_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 10, run.stderr
    assert "RejectRateError" in run.stderr
