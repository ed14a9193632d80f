"""The log in a real process: SIGKILL loses at most the last flush interval and leaves no broken
segment; SIGTERM, handled by closing the log, loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

import modelport
from modelport.predictions import read_predictions
from modelport.predictions.segments import live_segments
from tests.serving_processes import wait_until

REPO = Path(__file__).resolve().parents[2]
INTERVAL = 0.2


def _start(root: Path, progress: Path) -> subprocess.Popen[str]:
    path = os.pathsep.join([str(Path(modelport.__file__).parents[1]), str(REPO)])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.Popen([sys.executable, "-m", "tests.prediction_log_child", str(root), str(INTERVAL),
                             str(progress)], env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _segments(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def _ids_on_disk(root: Path) -> list[int]:
    """Every id in the segments readers see; every segment is read on its own (a broken one raises)."""
    tables = {path: pq.read_table(path) for path in _segments(root)}
    live = [path for folder in {p.parent for p in tables} for path in live_segments(folder)[0]]
    return sorted(int(value, 16) for path in live for value in tables[path].column("id").to_pylist())


def _running(child: subprocess.Popen[str], condition: bool) -> bool:
    if child.poll() is not None:
        raise AssertionError(f"the child exited with {child.returncode}: {child.communicate()[1]}")
    return condition


def test_sigkill_loses_at_most_the_last_interval_and_no_segment_is_broken(tmp_path: Path) -> None:
    root, progress = tmp_path / "log", tmp_path / "progress"
    child = _start(root, progress)
    try:
        wait_until(lambda: _running(child, progress.exists() and bool(_segments(root))), 120,
                   "the first segment")
        acknowledged = int(progress.read_text())  # submit() returned for ids below this
        seen = len(_segments(root))
        # the second segment to appear from now was begun after the first had finished, so after
        # ``acknowledged`` was read: it holds every row submitted before then
        wait_until(lambda: _running(child, len(_segments(root)) >= seen + 2), 120, "two more flushes")
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    on_disk = _ids_on_disk(root)
    assert on_disk == list(range(len(on_disk)))  # a prefix: no gap, no duplicate; only the tail is lost
    assert len(on_disk) >= acknowledged
    leftovers = [p.name for p in root.rglob("*") if p.is_file() and p.suffix != ".parquet"]
    assert all(name.startswith(".") and name.endswith((".tmp", ".lock")) for name in leftovers)
    assert len(read_predictions(root, "child")) == len(on_disk)


def test_sigterm_closes_the_log_and_nothing_is_missing(tmp_path: Path) -> None:
    root, progress = tmp_path / "log", tmp_path / "progress"
    child = _start(root, progress)
    try:
        wait_until(lambda: _running(child, bool(_segments(root))), 120, "the first segment")
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["submitted"] > 0
    counts = (stats["written"], stats["dropped"], stats["failed"], stats["queued"])
    assert counts == (stats["submitted"], 0, 0, 0)
    assert _ids_on_disk(root) == list(range(stats["submitted"]))
    assert read_predictions(root, "child")["id"].tolist() == [f"{i:032x}" for i in range(stats["submitted"])]


def test_a_process_that_exits_without_closing_still_writes_what_it_submitted(tmp_path: Path) -> None:
    program = ("import sys; from modelport.predictions import PredictionBatch, PredictionLog; "
               "log = PredictionLog(sys.argv[1], flush_interval_s=3600); "
               "[log.submit(PredictionBatch('m', 'm', '1', {'a': [i]}, predictions=[i], ids=[f'{i:032x}'])) "
               "for i in range(50)]")
    env = {**os.environ, "PYTHONPATH": str(Path(modelport.__file__).parents[1])}
    subprocess.run([sys.executable, "-c", program, str(tmp_path)], env=env, check=True, timeout=120)
    assert _ids_on_disk(tmp_path) == list(range(50))
