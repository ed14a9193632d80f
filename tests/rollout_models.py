"""Versions of one model, ``numbers``, registered for the rollout tests: two good ones and a fragile one."""

from __future__ import annotations

from pathlib import Path

import httpx
from sklearn.linear_model import LogisticRegression

import modelport
from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.data import numeric_classification
from tests.serving_apps import FRAGILE

ROW = {"x1": 0.1, "x2": -0.2, "x3": 0.3, "x4": 1.0}
#: the fragile version raises on x1 > 50 (a 500); the good ones answer it (with a range warning)
BREAKS = {"x1": 99.0, "x2": -0.2, "x3": 0.3, "x4": 1.0}
#: the fragile version sleeps a second on x2 > 50
SLOWS = {"x1": 0.1, "x2": 60.0, "x3": 0.3, "x4": 1.0}
TOKEN = "s3cret-admin-token"


def pack_versions(root: Path) -> list[Path]:
    """numbers v1 (C=1), v2 (C=0.05: other answers near the boundary), v3 fragile."""
    x, y = numeric_classification(200, classes=3)
    first = modelport.pack(LogisticRegression().fit(x, y), name="numbers", sample=x, target=y,
                           out=root / "v1")
    second = modelport.pack(LogisticRegression(C=0.05).fit(x, y), name="numbers", sample=x, target=y,
                            out=root / "v2")
    (root / "fragile.py").write_text(FRAGILE)
    third = modelport.pack(LogisticRegression().fit(x, y), name="numbers", sample=x, target=y,
                           preprocess=root / "fragile.py", out=root / "v3")
    return [first.path, second.path, third.path]


def register(paths: list[Path]) -> Registry:
    """Register every path as the next version of ``numbers`` (in this test's home); v1 is production."""
    registry = Registry(Settings.from_env().registry_config())
    for path in paths:
        registry.register(path, name="numbers")
    registry.set_alias("numbers", "production", 1, reason="first release")
    return registry


def admin(url: str, method: str, path: str, token: str | None = TOKEN, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.request(method, f"{url}/admin{path}", headers=headers, timeout=120, **kwargs)  # type: ignore[arg-type]


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "serve.yaml"
    path.write_text(text)
    return path
