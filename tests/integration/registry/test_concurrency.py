"""Real processes registering versions of one name and moving one alias at the same moment."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import modelport
from modelport.registry.config import RegistryConfig
from modelport.registry.service import Registry
from tests.integration.registry.conftest import MakeArtifact

PROCESSES = 4
MOVES = 8

#: argv: database URL, store folder, artifact folder, ready folder, go file, moves
WORKER = """
import os, sys, time
from pathlib import Path
from modelport.registry.config import RegistryConfig
from modelport.registry.service import Registry

url, store, artifact, ready, go, moves = sys.argv[1:]
config = RegistryConfig(url=url, artifacts=store, user=f"worker-{os.getpid()}")
Path(ready, str(os.getpid())).touch()
while not Path(go).exists():
    time.sleep(0.005)
with Registry(config) as registry:
    version = registry.register(artifact)
    for i in range(int(moves)):
        registry.set_alias(version.name, "candidate", version.version, reason=f"move {i}")
print(version.version)
"""


def _environment() -> dict[str, str]:
    src = str(Path(modelport.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _wait_for(folder: Path, count: int, workers: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 180
    while len(list(folder.iterdir())) < count:
        failed = [w for w in workers if w.poll() not in (None, 0)]
        assert not failed, failed[0].communicate()[1]
        assert time.monotonic() < deadline, "workers did not start in time"
        time.sleep(0.02)


def test_concurrent_registrations_get_consecutive_versions_and_no_alias_move_is_lost(
        config: RegistryConfig, make_artifact: MakeArtifact, tmp_path: Path) -> None:
    artifacts = [make_artifact(i) for i in range(PROCESSES)]
    ready, go = tmp_path / "ready", tmp_path / "go"
    ready.mkdir()
    workers = [subprocess.Popen(
        [sys.executable, "-c", WORKER, config.url, config.artifacts, str(path), str(ready),
         str(go), str(MOVES)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_environment()) for path in artifacts]
    try:
        _wait_for(ready, PROCESSES, workers)
        go.touch()  # every worker opens a fresh database and registers at once
        results = [w.communicate(timeout=180) for w in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, (_, stderr) in zip(workers, results, strict=True):
        assert worker.returncode == 0, stderr
    got = sorted(int(out.strip()) for out, _ in results)
    assert got == list(range(1, PROCESSES + 1))

    with Registry(config) as registry:
        versions = registry.list_versions("churn")
        assert [v.version.version for v in versions] == got
        assert len({v.version.digest for v in versions}) == PROCESSES
        history = registry.history("churn")
        moves = [e for e in history if e.action == "alias_set"]
        assert len([e for e in history if e.action == "register"]) == PROCESSES
        assert len(moves) == PROCESSES * MOVES
        assert moves[0].from_version is None
        for before, after in itertools.pairwise(moves):
            assert after.from_version == before.to_version  # each move saw the one before it
        for number in got:
            assert sum(m.to_version == number for m in moves) == MOVES
        assert registry.aliases_of("churn") == {"candidate": moves[-1].to_version}
        assert len({m.who for m in moves}) == PROCESSES
