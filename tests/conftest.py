"""Shared fixtures: every test gets its own MODELPORT_HOME so nothing leaks between tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "modelport-home"
    monkeypatch.setenv("MODELPORT_HOME", str(home))
    for variable in ("MODELPORT_REGISTRY_URL", "MODELPORT_ARTIFACTS", "MODELPORT_USER"):
        monkeypatch.delenv(variable, raising=False)
    return home
