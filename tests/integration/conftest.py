"""Fixtures of the serving tests: the asyncio backend for anyio, and artifacts packed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving_apps import pack_models


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def served_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pack_models(tmp_path_factory.mktemp("served"))
