"""Fixtures of the integration tests: the asyncio backend for anyio, and artifacts packed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts import credit_artifact
from tests.serving_apps import pack_models


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def served_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pack_models(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="session")
def credit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The credit pipeline packed once (batch and Spark tests read it, none changes it)."""
    root = tmp_path_factory.mktemp("credit") / "credit"
    credit_artifact(root)
    return root
