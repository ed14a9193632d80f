"""The extension hook: a named factory's routes are mounted and its tasks run for the app's lifetime;
specs travel pickled to workers; bad names are refused with a ConfigError."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from modelport.errors import ConfigError
from modelport.serving.config import ServerConfig
from modelport.serving.extensions import Extension, ExtensionContext, ExtensionSpec, build_extensions
from modelport.serving.http.app import build_service, create_app
from modelport.serving.workers import WorkerSpec
from tests.artifacts import small_classifier
from tests.serving_apps import open_model

pytestmark = pytest.mark.anyio

#: what the tasks of :func:`counting` saw: ticks while running, and whether they were cancelled
EVENTS: list[str] = []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def counting(context: ExtensionContext) -> Extension:
    """A route answering the option ``word`` and the models served, and a task that ticks."""

    async def hello(request: Request) -> Response:
        names = ",".join(served.key for served in context.service.models)
        return PlainTextResponse(f"{context.options['word']} {names}")

    async def tick() -> None:
        try:
            while True:
                EVENTS.append("tick")
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            EVENTS.append("cancelled")
            raise

    return Extension(routes=[Route("/hello", hello)], tasks=[tick])


async def test_routes_are_mounted_and_tasks_run_until_the_app_stops(tmp_path: Path) -> None:
    artifact, _ = small_classifier(tmp_path / "small")
    service, metrics = build_service([("small", "1", open_model(artifact.path))], ServerConfig())
    spec = ExtensionSpec(f"{__name__}:counting", {"word": "hi"})
    app = create_app(service, metrics, extensions=build_extensions([spec], service, metrics))
    EVENTS.clear()
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://modelport.test") as client:
        answer = await client.get("/hello")
        assert (answer.status_code, answer.text) == (200, "hi small:1")
        assert (await client.get("/v2/health/ready")).status_code == 200
        while "tick" not in EVENTS:
            await asyncio.sleep(0.01)
    assert EVENTS[-1] == "cancelled"


def test_a_worker_spec_with_extensions_pickles() -> None:
    spec = WorkerSpec((), ServerConfig(), extensions=(ExtensionSpec(f"{__name__}:counting", {"word": "x"}),))
    assert pickle.loads(pickle.dumps(spec)) == spec


@pytest.mark.parametrize("name", ["no_colon", "modelport.nowhere:factory", f"{__name__}:missing",
                                  f"{__name__}:EVENTS"])
def test_a_bad_factory_name_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError, match="extension"):
        ExtensionSpec(name).load()
