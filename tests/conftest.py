"""Shared fixtures: every test gets its own MODELPORT_HOME so nothing leaks between tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "modelport-home"
    monkeypatch.setenv("MODELPORT_HOME", str(home))
    for variable in ("MODELPORT_REGISTRY_URL", "MODELPORT_ARTIFACTS", "MODELPORT_USER"):
        monkeypatch.delenv(variable, raising=False)
    return home


@pytest.fixture
def default_collector() -> Iterator[None]:
    """Python's own collector thresholds and nothing frozen for the test; the process's thresholds
    afterwards (``core.collector`` changes them in whatever process starts a server)."""
    saved = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
